#pragma once
// Experiment configuration: a YAML file checked against one schema (core/schema.cpp), plus
// command-line `key.sub=value` overrides and `key=a,b,c` sweeps. Every key has a type, a default,
// a range or a set of choices; anything else is a ConfigError naming the key.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace grokscope {

using IntList = std::vector<std::int64_t>;
using StringList = std::vector<std::string>;
// One configuration value. Lists are for keys like model.widths or metrics.geometry.layers.
using Value = std::variant<std::int64_t, double, bool, std::string, IntList, StringList>;

std::string format_value(const Value& value);  // as YAML flow text: 8, 0.001, true, relu, [200, 200]

// One axis of the hyperparameter grid: a key and the values it takes.
struct GridAxis {
  std::string key;
  std::vector<Value> values;
};

class Config {
 public:
  // Loads and validates a YAML file, then applies overrides ("a.b=1" sets, "a.b=1,2,3" sweeps).
  static Config from_file(const std::string& path, const std::vector<std::string>& overrides = {});
  // The same from YAML text; `origin` names it in error messages.
  static Config from_text(const std::string& yaml, const std::string& origin,
                          const std::vector<std::string>& overrides = {});
  // All defaults, no grid, seed 0.
  static Config defaults();

  std::int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;  // Float keys (ints are accepted where floats are)
  bool flag(const std::string& key) const;
  const std::string& text(const std::string& key) const;
  const IntList& integers(const std::string& key) const;
  const StringList& strings(const std::string& key) const;
  const Value& value(const std::string& key) const;

  // Sets one key after validating it (used by the grid expansion and by overrides).
  void set(const std::string& key, const Value& value);

  const std::vector<GridAxis>& grid() const { return grid_; }  // sorted by key
  const IntList& seeds() const { return seeds_; }
  const std::string& origin() const { return origin_; }

  // The fully resolved configuration as YAML (every key, defaults included, grid and seeds).
  std::string to_yaml() const;
  // Only the scalar keys, flattened: "train.lr" -> "0.001". Used for run attributes and diffs.
  std::map<std::string, std::string> flattened() const;

 private:
  std::map<std::string, Value> values_;
  std::vector<GridAxis> grid_;
  IntList seeds_{0};
  std::string origin_;

  void apply_override(const std::string& assignment);
  void check_cross_field() const;
};

}  // namespace grokscope
