#include "grokscope/core/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>

#include "grokscope/core/error.hpp"
#include "grokscope/core/schema.hpp"

namespace grokscope {
namespace {

std::string where(const YAML::Node& node, const std::string& origin) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return origin;
  return origin + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

[[noreturn]] void wrong_type(const KeySpec& spec, const YAML::Node& node, const std::string& origin) {
  std::string got = node.IsScalar() ? "'" + node.Scalar() + "'"
                    : node.IsSequence() ? std::string("a list")
                    : node.IsMap()      ? std::string("a mapping")
                                        : std::string("nothing");
  throw ConfigError(spec.key, "must be " + kind_name(spec.kind) + ", got " + got + " (" +
                                  where(node, origin) + ")");
}

bool parse_int(const std::string& text, std::int64_t& out) {
  const char* first = text.data();
  const char* last = first + text.size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  if (ec == std::errc() && ptr == last) return true;
  // Accept integral scientific notation ("1e5") — common for step counts.
  double d = 0;
  auto [dptr, dec] = std::from_chars(first, last, d);
  if (dec != std::errc() || dptr != last || !std::isfinite(d) || std::floor(d) != d ||
      std::fabs(d) > 9.0e18)
    return false;
  out = static_cast<std::int64_t>(d);
  return true;
}

bool parse_float(const std::string& text, double& out) {
  const char* first = text.data();
  const char* last = first + text.size();
  // YAML spellings of infinity/NaN are rejected later by the range check; accept them here.
  if (text == ".inf" || text == "+.inf") return out = INFINITY, true;
  if (text == "-.inf") return out = -INFINITY, true;
  if (text == ".nan" || text == ".NaN") return out = NAN, true;
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && ptr == last;
}

Value parse_node(const KeySpec& spec, const YAML::Node& node, const std::string& origin) {
  auto scalar = [&](const YAML::Node& n) -> const std::string& {
    if (!n.IsScalar()) wrong_type(spec, node, origin);
    return n.Scalar();
  };
  switch (spec.kind) {
    case ValueKind::Int: {
      std::int64_t v = 0;
      if (!parse_int(scalar(node), v)) wrong_type(spec, node, origin);
      return v;
    }
    case ValueKind::Float: {
      double v = 0;
      if (!parse_float(scalar(node), v)) wrong_type(spec, node, origin);
      return v;
    }
    case ValueKind::Bool: {
      const std::string& s = scalar(node);
      if (s == "true" || s == "True" || s == "yes") return true;
      if (s == "false" || s == "False" || s == "no") return false;
      wrong_type(spec, node, origin);
    }
    case ValueKind::String:
      if (node.IsNull()) return std::string();
      return scalar(node);
    case ValueKind::IntList: {
      if (!node.IsSequence()) wrong_type(spec, node, origin);
      IntList list;
      for (const auto& item : node) {
        std::int64_t v = 0;
        if (!item.IsScalar() || !parse_int(item.Scalar(), v)) wrong_type(spec, item, origin);
        list.push_back(v);
      }
      return list;
    }
    case ValueKind::StringList: {
      if (node.IsScalar()) return StringList{node.Scalar()};  // "layers: relu2" means [relu2]
      if (!node.IsSequence()) wrong_type(spec, node, origin);
      StringList list;
      for (const auto& item : node) {
        if (!item.IsScalar()) wrong_type(spec, item, origin);
        list.push_back(item.Scalar());
      }
      return list;
    }
  }
  wrong_type(spec, node, origin);
}

bool is_prefix_of_a_key(const std::string& prefix) {
  for (const auto& spec : config_schema())
    if (spec.key.rfind(prefix + ".", 0) == 0) return true;
  return false;
}

[[noreturn]] void unknown_key(const std::string& key, const std::string& at) {
  std::string message = "unknown key";
  const std::string hint = closest_key(key);
  if (!hint.empty()) message += " (did you mean '" + hint + "'?)";
  throw ConfigError(key, message + (at.empty() ? "" : " (" + at + ")"));
}

const KeySpec& known_key(const std::string& key, const std::string& at) {
  const KeySpec* spec = find_key(key);
  if (spec == nullptr) unknown_key(key, at);
  return *spec;
}

IntList parse_seeds(const YAML::Node& node, const std::string& origin) {
  IntList seeds;
  std::int64_t v = 0;
  if (node.IsScalar() && parse_int(node.Scalar(), v)) {
    if (v < 1) throw ConfigError("seeds", "a seed count must be >= 1 (" + where(node, origin) + ")");
    for (std::int64_t s = 0; s < v; ++s) seeds.push_back(s);
    return seeds;
  }
  if (!node.IsSequence())
    throw ConfigError("seeds", "must be a count or a list of integers (" + where(node, origin) + ")");
  for (const auto& item : node) {
    if (!item.IsScalar() || !parse_int(item.Scalar(), v) || v < 0)
      throw ConfigError("seeds", "seeds must be non-negative integers (" + where(item, origin) + ")");
    seeds.push_back(v);
  }
  if (seeds.empty()) throw ConfigError("seeds", "the seed list is empty, so the grid is empty");
  return seeds;
}

YAML::Node to_node(const Value& value) {
  YAML::Node node;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, IntList> || std::is_same_v<T, StringList>) {
          node = YAML::Node(YAML::NodeType::Sequence);
          for (const auto& x : v) node.push_back(x);
          node.SetStyle(YAML::EmitterStyle::Flow);
        } else if constexpr (std::is_same_v<T, double>) {
          node = format_value(v);
        } else {
          node = v;
        }
      },
      value);
  return node;
}

void insert_nested(YAML::Node root, const std::string& key, const YAML::Node& leaf) {
  // YAML::Node assignment aliases, so walk with explicit re-binding via recursion.
  const auto dot = key.find('.');
  if (dot == std::string::npos) {
    root[key] = leaf;
    return;
  }
  const std::string head = key.substr(0, dot);
  YAML::Node child = root[head];
  if (!child.IsMap()) child = YAML::Node(YAML::NodeType::Map);
  insert_nested(child, key.substr(dot + 1), leaf);
  root[head] = child;
}

void set_grid_axis(std::vector<GridAxis>& grid, GridAxis axis) {
  if (axis.values.empty())
    throw ConfigError(axis.key, "grid axis has no values, so the grid is empty");
  // Kept sorted by key: the grid order (and so the run ids and the resolved YAML) does not depend
  // on the order the axes were written in.
  auto it = std::lower_bound(grid.begin(), grid.end(), axis.key,
                             [](const GridAxis& a, const std::string& key) { return a.key < key; });
  if (it != grid.end() && it->key == axis.key) *it = std::move(axis);
  else grid.insert(it, std::move(axis));
}

}  // namespace

std::string format_value(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          char buf[64];
          auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
          return std::string(buf, ptr);
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else {
          std::string out = "[";
          for (std::size_t i = 0; i < v.size(); ++i) {
            if (i) out += ", ";
            if constexpr (std::is_same_v<T, IntList>) out += std::to_string(v[i]);
            else out += v[i];
          }
          return out + "]";
        }
      },
      value);
}

Config Config::defaults() {
  Config config;
  for (const auto& spec : config_schema()) config.values_[spec.key] = spec.default_value;
  config.origin_ = "<defaults>";
  return config;
}

Config Config::from_file(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw InputError(path, "cannot open the config file (does it exist?)");
  std::stringstream text;
  text << in.rdbuf();
  return from_text(text.str(), path, overrides);
}

Config Config::from_text(const std::string& yaml, const std::string& origin,
                         const std::vector<std::string>& overrides) {
  Config config = defaults();
  config.origin_ = origin;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw ConfigError("", origin + ":" + std::to_string(e.mark.line + 1) + ":" +
                              std::to_string(e.mark.column + 1) + ": malformed YAML: " + e.msg);
  }
  if (!root.IsNull() && !root.IsMap())
    throw ConfigError("", origin + ": the top level must be a mapping of keys");

  // Walks nested mappings down to leaves; `prefix` is the dotted path so far.
  std::function<void(const YAML::Node&, const std::string&, bool)> walk =
      [&](const YAML::Node& map, const std::string& prefix, bool in_grid) {
        for (const auto& item : map) {
          const std::string name = item.first.as<std::string>();
          const std::string key = prefix.empty() ? name : prefix + "." + name;
          const YAML::Node& node = item.second;
          if (!in_grid && prefix.empty() && name == "grid") {
            if (node.IsNull()) continue;
            if (!node.IsMap())
              throw ConfigError("grid", "must be a mapping of key: [values] (" +
                                            where(node, origin) + ")");
            walk(node, "", true);
            continue;
          }
          if (!in_grid && prefix.empty() && name == "seeds") {
            config.seeds_ = parse_seeds(node, origin);
            continue;
          }
          const KeySpec* spec = find_key(key);
          if (spec == nullptr) {
            if (node.IsMap() && is_prefix_of_a_key(key)) {
              walk(node, key, in_grid);
              continue;
            }
            if (is_prefix_of_a_key(key))
              throw ConfigError(key, "is a section and must be a mapping (" +
                                         where(node, origin) + ")");
            // An unknown section: name its first leaf ("trian.lr"), which finds the best hint.
            std::string leaf = key;
            for (YAML::Node inner = node; inner.IsMap() && inner.size() > 0;) {
              const auto first = inner.begin();
              leaf += "." + first->first.as<std::string>();
              inner = first->second;
            }
            unknown_key(leaf, where(item.first, origin));
          }
          if (in_grid) {
            if (!node.IsSequence())
              throw ConfigError("grid." + key, "a grid axis must be a list of values (" +
                                                   where(node, origin) + ")");
            GridAxis axis{key, {}};
            for (const auto& v : node) {
              Value value = parse_node(*spec, v, origin);
              check_value(*spec, value);
              axis.values.push_back(std::move(value));
            }
            set_grid_axis(config.grid_, std::move(axis));
          } else {
            Value value = parse_node(*spec, node, origin);
            check_value(*spec, value);
            config.values_[key] = std::move(value);
          }
        }
      };
  if (root.IsMap()) walk(root, "", false);
  for (const auto& assignment : overrides) config.apply_override(assignment);
  config.check_cross_field();
  return config;
}

void Config::apply_override(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("", "override '" + assignment + "' is not of the form key=value");
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  const std::string at = "command line '" + assignment + "'";
  auto load = [&](const std::string& t) {
    try {
      return YAML::Load(t);
    } catch (const YAML::ParserException& e) {
      throw ConfigError(key, "cannot parse '" + t + "': " + e.msg + " (" + at + ")");
    }
  };
  if (key == "seeds") {
    seeds_ = parse_seeds(load(text.find(',') != std::string::npos ? "[" + text + "]" : text), at);
    return;
  }
  const KeySpec& spec = known_key(key, at);
  const bool is_list = spec.kind == ValueKind::IntList || spec.kind == ValueKind::StringList;
  const bool sweep = !is_list && text.find(',') != std::string::npos;
  if (sweep) {
    GridAxis axis{key, {}};
    std::stringstream parts(text);
    for (std::string part; std::getline(parts, part, ',');) {
      Value value = parse_node(spec, load(part), at);
      check_value(spec, value);
      axis.values.push_back(std::move(value));
    }
    set_grid_axis(grid_, std::move(axis));
    return;
  }
  set(key, parse_node(spec, load(text), at));
  // An explicit value replaces a grid axis over the same key.
  for (auto it = grid_.begin(); it != grid_.end(); ++it)
    if (it->key == key) {
      grid_.erase(it);
      break;
    }
}

void Config::set(const std::string& key, const Value& value) {
  const KeySpec& spec = known_key(key, "");
  if (value.index() != spec.default_value.index()) {
    // Integers are acceptable where numbers are expected.
    if (spec.kind == ValueKind::Float && std::holds_alternative<std::int64_t>(value)) {
      set(key, Value(static_cast<double>(std::get<std::int64_t>(value))));
      return;
    }
    throw ConfigError(key, "must be " + kind_name(spec.kind) + ", got " + format_value(value));
  }
  check_value(spec, value);
  values_[key] = value;
}

void Config::check_cross_field() const {
  for (const auto& step : integers("checkpoints.extra"))
    if (step > integer("train.steps") && grid_.empty())
      throw ConfigError("checkpoints.extra",
                        "step " + std::to_string(step) + " is beyond train.steps = " +
                            std::to_string(integer("train.steps")));
  if (text("model.arch") == "mlp" && integers("model.widths").empty())
    throw ConfigError("model.widths", "an MLP needs at least one hidden layer");
  if (text("model.arch") == "cnn" && integers("model.channels").empty())
    throw ConfigError("model.channels", "a CNN needs at least one conv layer");
}

const Value& Config::value(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) unknown_key(key, "");
  return it->second;
}

namespace {
template <typename T>
const T& typed(const Config& c, const std::string& key) {
  const Value& v = c.value(key);
  if (const T* p = std::get_if<T>(&v)) return *p;
  throw UsageError("config key '" + key + "' read with the wrong type (a grokscope bug)");
}
}  // namespace

std::int64_t Config::integer(const std::string& key) const { return typed<std::int64_t>(*this, key); }
double Config::number(const std::string& key) const {
  const Value& v = value(key);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return typed<double>(*this, key);
}
bool Config::flag(const std::string& key) const { return typed<bool>(*this, key); }
const std::string& Config::text(const std::string& key) const { return typed<std::string>(*this, key); }
const IntList& Config::integers(const std::string& key) const { return typed<IntList>(*this, key); }
const StringList& Config::strings(const std::string& key) const { return typed<StringList>(*this, key); }

std::string Config::to_yaml() const {
  YAML::Node root(YAML::NodeType::Map);
  for (const auto& spec : config_schema()) insert_nested(root, spec.key, to_node(values_.at(spec.key)));
  YAML::Node grid(YAML::NodeType::Map);
  for (const auto& axis : grid_) {
    YAML::Node values(YAML::NodeType::Sequence);
    for (const auto& v : axis.values) values.push_back(to_node(v));
    values.SetStyle(YAML::EmitterStyle::Flow);
    grid[axis.key] = values;
  }
  root["grid"] = grid;
  YAML::Node seeds(YAML::NodeType::Sequence);
  for (auto s : seeds_) seeds.push_back(s);
  seeds.SetStyle(YAML::EmitterStyle::Flow);
  root["seeds"] = seeds;
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

std::map<std::string, std::string> Config::flattened() const {
  std::map<std::string, std::string> flat;
  for (const auto& [key, value] : values_) flat[key] = format_value(value);
  return flat;
}

}  // namespace grokscope
