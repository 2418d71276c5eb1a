#pragma once
// Grid expansion: the cartesian product of the config's grid axes times its seeds, in one fixed
// mixed-radix order (axes sorted by key, the first most significant, seeds least significant).
// The same config always yields the same run ids: submit, run, resume and collect rely on that.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "grokscope/core/config.hpp"

namespace grokscope {

struct RunPoint {
  std::size_t index = 0;      // position in the grid order
  std::string id;             // "r000017"
  std::size_t condition = 0;  // grid point without the seed (index / number of seeds)
  std::int64_t seed = 0;      // model seed (initialization and batch order)
  std::vector<std::pair<std::string, std::string>> coordinates;  // grid key -> value
  Config config;              // fully resolved: grid values substituted

  std::string label() const;  // "model.init_scale=8 seed=0"
};

std::string run_id(std::size_t index);
std::vector<RunPoint> expand_grid(const Config& config);

}  // namespace grokscope
