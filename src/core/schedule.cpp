#include "grokscope/core/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "grokscope/core/config.hpp"
#include "grokscope/core/error.hpp"

namespace grokscope {

std::vector<std::int64_t> checkpoint_steps(std::int64_t total_steps, int per_decade,
                                           const std::vector<std::int64_t>& extra,
                                           bool include_zero) {
  if (total_steps < 1) throw ConfigError("train.steps", "must be >= 1");
  if (per_decade < 1) throw ConfigError("checkpoints.per_decade", "must be >= 1");
  std::vector<std::int64_t> steps;
  if (include_zero) steps.push_back(0);
  for (int k = 0;; ++k) {
    const auto step = static_cast<std::int64_t>(std::llround(std::pow(10.0, double(k) / per_decade)));
    if (step > total_steps) break;
    steps.push_back(step);
  }
  for (auto step : extra) {
    if (step < 0 || step > total_steps)
      throw ConfigError("checkpoints.extra", "step " + std::to_string(step) +
                                                 " is outside [0, train.steps = " +
                                                 std::to_string(total_steps) + "]");
    steps.push_back(step);
  }
  steps.push_back(total_steps);
  std::sort(steps.begin(), steps.end());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  return steps;
}

std::vector<std::int64_t> checkpoint_steps(const Config& config) {
  return checkpoint_steps(config.integer("train.steps"),
                          static_cast<int>(config.integer("checkpoints.per_decade")),
                          config.integers("checkpoints.extra"),
                          config.flag("checkpoints.include_zero"));
}

}  // namespace grokscope
