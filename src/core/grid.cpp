#include "grokscope/core/grid.hpp"

#include <algorithm>
#include <cstdio>

#include "grokscope/core/error.hpp"

namespace grokscope {

std::string run_id(std::size_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "r%06zu", index);
  return buf;
}

std::string RunPoint::label() const {
  std::string out;
  for (const auto& [key, value] : coordinates) out += key + "=" + value + " ";
  return out + "seed=" + std::to_string(seed);
}

std::vector<RunPoint> expand_grid(const Config& config) {
  const std::vector<GridAxis>& axes = config.grid();  // sorted by key
  std::size_t conditions = 1;
  for (const auto& axis : axes) {
    if (axis.values.empty()) throw ConfigError(axis.key, "grid axis has no values, so the grid is empty");
    conditions *= axis.values.size();
  }
  const auto& seeds = config.seeds();
  if (seeds.empty()) throw ConfigError("seeds", "the seed list is empty, so the grid is empty");

  std::vector<RunPoint> runs;
  runs.reserve(conditions * seeds.size());
  for (std::size_t condition = 0; condition < conditions; ++condition) {
    Config point = config;
    std::vector<std::pair<std::string, std::string>> coordinates;
    std::size_t rest = condition;
    // Mixed radix, last axis fastest.
    std::vector<std::size_t> digits(axes.size());
    for (std::size_t a = axes.size(); a-- > 0;) {
      digits[a] = rest % axes[a].values.size();
      rest /= axes[a].values.size();
    }
    for (std::size_t a = 0; a < axes.size(); ++a) {
      const Value& v = axes[a].values[digits[a]];
      point.set(axes[a].key, v);
      coordinates.emplace_back(axes[a].key, format_value(v));
    }
    for (std::size_t s = 0; s < seeds.size(); ++s) {
      RunPoint run;
      run.index = runs.size();
      run.id = run_id(run.index);
      run.condition = condition;
      run.seed = seeds[s];
      run.coordinates = coordinates;
      run.config = point;
      runs.push_back(std::move(run));
    }
  }
  // Cross-field rules must hold at every point, not only for the base values.
  for (const auto& run : runs)
    for (auto step : run.config.integers("checkpoints.extra"))
      if (step > run.config.integer("train.steps"))
        throw ConfigError("checkpoints.extra", "step " + std::to_string(step) +
                                                   " is beyond train.steps = " +
                                                   std::to_string(run.config.integer("train.steps")) +
                                                   " at grid point " + run.label());
  return runs;
}

}  // namespace grokscope
