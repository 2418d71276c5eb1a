#pragma once
// The checkpoint schedule: log-spaced steps merged with explicit ones.
#include <cstdint>
#include <vector>

namespace grokscope {

// Steps round(10^(k / per_decade)) for k = 0, 1, ... up to `total_steps`, merged with `extra`,
// plus 0 when `include_zero` and always `total_steps` itself; sorted, unique. Throws
// ConfigError("checkpoints.extra") for an extra step outside [0, total_steps].
std::vector<std::int64_t> checkpoint_steps(std::int64_t total_steps, int per_decade,
                                           const std::vector<std::int64_t>& extra,
                                           bool include_zero);

class Config;
std::vector<std::int64_t> checkpoint_steps(const Config& config);

}  // namespace grokscope
