#pragma once
// The configuration schema: every key grokscope understands, its type, default and valid range.
// Adding a key here is all it takes for the YAML loader, overrides, `validate` and the results
// file attributes to know about it.
#include <optional>
#include <string>
#include <vector>

#include "grokscope/core/config.hpp"

namespace grokscope {

enum class ValueKind { Int, Float, Bool, String, IntList, StringList };

struct KeySpec {
  std::string key;  // dotted path, e.g. "train.lr"
  ValueKind kind;
  Value default_value;
  std::optional<double> min;  // inclusive bounds for numbers (and for list elements)
  std::optional<double> max;
  bool min_exclusive = false;  // e.g. lr > 0
  StringList choices;          // allowed strings (or list elements) when non-empty
  StringList aliases;          // common other names ("learning_rate"), only for "did you mean" hints
  std::string help;
};

const std::vector<KeySpec>& config_schema();
// The spec of `key`, or nullptr.
const KeySpec* find_key(const std::string& key);
// The known key closest to `key` (edit distance), for "did you mean" hints; empty if none is close.
std::string closest_key(const std::string& key);
// Checks that `value` suits `spec` (type already converted); throws ConfigError naming the key.
void check_value(const KeySpec& spec, const Value& value);
std::string kind_name(ValueKind kind);

}  // namespace grokscope
