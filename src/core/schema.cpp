#include "grokscope/core/schema.hpp"

#include <algorithm>
#include <cmath>

#include "grokscope/core/error.hpp"

namespace grokscope {
namespace {

using K = ValueKind;
constexpr double kInf = INFINITY;

KeySpec key(std::string name, ValueKind kind, Value def, std::string help) {
  KeySpec s;
  s.key = std::move(name);
  s.kind = kind;
  s.default_value = std::move(def);
  s.help = std::move(help);
  return s;
}
KeySpec range(KeySpec s, double lo, double hi, bool lo_exclusive = false) {
  s.min = lo;
  s.max = hi;
  s.min_exclusive = lo_exclusive;
  return s;
}
KeySpec alias(KeySpec s, StringList names) {
  s.aliases = std::move(names);
  return s;
}
KeySpec one_of(KeySpec s, StringList choices) {
  s.choices = std::move(choices);
  return s;
}

std::vector<KeySpec> build_schema() {
  using std::int64_t;
  return {
      key("name", K::String, std::string("study"), "study name (used in file names and job names)"),
      // --- data --------------------------------------------------------------------------------
      one_of(key("data.dataset", K::String, std::string("mnist"), "dataset"),
             {"mnist", "fashion-mnist", "emnist", "kmnist"}),
      key("data.dir", K::String, std::string(""),
          "folder of the IDX files; empty = $GROKSCOPE_DATA_DIR or the offline copies of env/"),
      key("data.emnist_split", K::String, std::string("balanced"),
          "EMNIST split, file prefix emnist-<split>-train-images-idx3-ubyte[.gz]"),
      range(key("data.train_size", K::Int, int64_t{1000}, "training points (0 = the whole split)"),
            0, 1e9),
      range(key("data.test_size", K::Int, int64_t{0}, "test points (0 = the whole split)"), 0, 1e9),
      one_of(key("data.subset", K::String, std::string("first"),
                 "how train/test subsets are taken: first n, or a seeded sample"),
             {"first", "seeded"}),
      one_of(key("data.normalize", K::String, std::string("none"),
                 "input normalization: none (pixels in [0,1]) or standard ((x-mean)/std)"),
             {"none", "standard"}),
      key("data.mean", K::Float, 0.1307, "mean for data.normalize=standard"),
      range(key("data.std", K::Float, 0.3081, "std for data.normalize=standard"), 0, kInf, true),
      range(key("data.seed", K::Int, int64_t{0},
                "data seed: subsets, probe sets and manifolds (independent of the model seed)"),
            0, 9.2e18),
      // --- model -------------------------------------------------------------------------------
      one_of(key("model.arch", K::String, std::string("mlp"), "architecture"), {"mlp", "cnn"}),
      range(key("model.widths", K::IntList, IntList{200, 200}, "hidden layer widths (MLP)"), 1,
            1e6),
      range(key("model.channels", K::IntList, IntList{16, 32}, "conv channels (CNN)"), 1, 4096),
      one_of(key("model.activation", K::String, std::string("relu"), "activation"),
             {"relu", "tanh", "gelu"}),
      one_of(key("model.parameterization", K::String, std::string("standard"),
                 "standard (PyTorch) or ntk (weights N(0,1), scaled by 1/sqrt(fan_in))"),
             {"standard", "ntk"}),
      range(key("model.init_scale", K::Float, 1.0,
                "every parameter, biases included, is multiplied by this after init"),
            0, kInf, true),
      range(key("model.output_scale", K::Float, 1.0, "logits are multiplied by this"), 0, kInf,
            true),
      // --- train -------------------------------------------------------------------------------
      range(key("train.steps", K::Int, int64_t{100000}, "optimizer steps"), 1, 1e12),
      alias(range(key("train.batch_size", K::Int, int64_t{200}, "batch size"), 1, 1e9), {"batch", "bs"}),
      one_of(key("train.loss", K::String, std::string("mse"),
                 "mse (against one-hot, mean over all elements) or cross_entropy"),
             {"mse", "cross_entropy"}),
      one_of(key("train.optimizer", K::String, std::string("adamw"), "optimizer"),
             {"adamw", "adam", "sgd"}),
      alias(range(key("train.lr", K::Float, 1e-3, "learning rate"), 0, kInf, true),
            {"learning_rate", "learningrate", "eta"}),
      alias(range(key("train.weight_decay", K::Float, 0.0, "weight decay"), 0, kInf), {"wd", "decay"}),
      range(key("train.momentum", K::Float, 0.0, "SGD momentum"), 0, 1),
      one_of(key("train.batching", K::String, std::string("shuffle"),
                 "shuffle (epochs of a fresh permutation) or iid (each batch drawn with replacement)"),
             {"shuffle", "iid"}),
      one_of(key("train.dtype", K::String, std::string("float32"), "floating-point type"),
             {"float32", "float64"}),
      key("train.fused_step", K::Bool, true,
          "train MLPs on the CPU with the hand-fused step (split over the rank's threads); "
          "false = LibTorch autograd (CNNs and GPUs always use autograd)"),
      range(key("train.log_every_seconds", K::Float, 10.0, "interval of the progress line"), 0,
            kInf),
      // --- checkpoints -------------------------------------------------------------------------
      range(key("checkpoints.per_decade", K::Int, int64_t{10},
                "log-spaced checkpoints per decade of steps"),
            1, 1000),
      range(key("checkpoints.extra", K::IntList, IntList{}, "explicit extra checkpoint steps"), 0,
            1e12),
      key("checkpoints.include_zero", K::Bool, true, "checkpoint the initial model (step 0)"),
      // --- metrics -----------------------------------------------------------------------------
      key("metrics.ntk.enabled", K::Bool, true, "compute NTK metrics at checkpoints"),
      one_of(key("metrics.ntk.probes", K::StringList, StringList{"train", "test"},
                 "probe sets for the NTK"),
             {"train", "test"}),
      range(key("metrics.ntk.probe_size", K::Int, int64_t{100},
                "probe points per set (class-balanced)"),
            2, 1e6),
      key("metrics.ntk.store_kernels", K::Bool, false, "store the kernels at every checkpoint"),
      key("metrics.geometry.enabled", K::Bool, true, "compute geometry at checkpoints"),
      key("metrics.geometry.layers", K::StringList, StringList{},
          "layers to analyse (empty = every hidden layer and the logits)"),
      one_of(key("metrics.geometry.methods", K::StringList, StringList{"mftma", "glue"},
                 "geometry methods"),
             {"mftma", "glue", "simcap"}),
      range(key("metrics.geometry.points_per_class", K::Int, int64_t{50},
                "held-out points per class manifold"),
            2, 1e6),
      range(key("metrics.geometry.n_t", K::Int, int64_t{200}, "Gaussian samples per manifold"), 1,
            1e7),
      range(key("metrics.geometry.glue_n_t", K::Int, int64_t{0},
                "GLUE's Gaussian samples (0 = n_t): GLUE costs ~15x MFTMA per sample on real layers"),
            0, 1e7),
      range(key("metrics.geometry.kappa", K::Float, 0.0, "margin (only 0 is supported)"), 0, 0),
      key("metrics.store_params", K::Bool, false, "store the parameters at every checkpoint"),
      // --- output and parallel layout ----------------------------------------------------------
      key("output.path", K::String, std::string("results/study.h5"), "results file"),
      range(key("parallel.group_size", K::Int, int64_t{1}, "ranks per run group"), 1, 1e6),
      range(key("parallel.threads", K::Int, int64_t{0},
                "compute threads per rank (0 = the cores of the node divided by its ranks)"),
            0, 4096),
      one_of(key("parallel.device", K::String, std::string("cpu"), "device"),
             {"auto", "cpu", "cuda"}),
  };
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string last_part(const std::string& key) {
  const auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

}  // namespace

const std::vector<KeySpec>& config_schema() {
  static const std::vector<KeySpec> schema = build_schema();
  return schema;
}

const KeySpec* find_key(const std::string& key) {
  for (const auto& spec : config_schema())
    if (spec.key == key) return &spec;
  return nullptr;
}

std::string closest_key(const std::string& key) {
  // Compare whole paths and last components: "train.learning_rate" and "lr" should both find
  // "train.lr" only if close; "trian.lr" finds "train.lr" by path.
  for (const auto& spec : config_schema())
    for (const auto& name : spec.aliases)
      if (name == last_part(key)) return spec.key;
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& spec : config_schema()) {
    const std::size_t d = std::min(edit_distance(key, spec.key),
                                   edit_distance(last_part(key), last_part(spec.key)) + 1);
    if (d < best_distance) {
      best_distance = d;
      best = spec.key;
    }
  }
  const std::size_t tolerance = std::max<std::size_t>(2, last_part(key).size() / 3);
  return best_distance <= tolerance ? best : std::string();
}

std::string kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::Int: return "an integer";
    case ValueKind::Float: return "a number";
    case ValueKind::Bool: return "true or false";
    case ValueKind::String: return "a string";
    case ValueKind::IntList: return "a list of integers";
    case ValueKind::StringList: return "a list of strings";
  }
  return "?";
}

void check_value(const KeySpec& spec, const Value& value) {
  auto check_number = [&](double x) {
    if (!std::isfinite(x)) throw ConfigError(spec.key, "must be finite, got " + format_value(value));
    const bool below = spec.min && (spec.min_exclusive ? x <= *spec.min : x < *spec.min);
    const bool above = spec.max && x > *spec.max;
    if (below || above) {
      std::string range;
      if (spec.min && spec.max && *spec.min == *spec.max)
        range = "must be " + format_value(Value(*spec.min));
      else if (spec.min && spec.max && *spec.max < 1e8)  // larger bounds are sanity limits only
        range = "must be in " + std::string(spec.min_exclusive ? "(" : "[") +
                format_value(Value(*spec.min)) + ", " + format_value(Value(*spec.max)) + "]";
      else if (spec.min)
        range = std::string("must be ") + (spec.min_exclusive ? "> " : ">= ") +
                format_value(Value(*spec.min));
      throw ConfigError(spec.key, range + ", got " + format_value(value));
    }
  };
  auto check_choice = [&](const std::string& s) {
    if (spec.choices.empty()) return;
    if (std::find(spec.choices.begin(), spec.choices.end(), s) != spec.choices.end()) return;
    std::string list;
    for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
    throw ConfigError(spec.key, "unknown value '" + s + "' (one of: " + list + ")");
  };
  if (const auto* i = std::get_if<std::int64_t>(&value)) check_number(static_cast<double>(*i));
  if (const auto* d = std::get_if<double>(&value)) check_number(*d);
  if (const auto* s = std::get_if<std::string>(&value)) check_choice(*s);
  if (const auto* l = std::get_if<IntList>(&value))
    for (auto x : *l) check_number(static_cast<double>(x));
  if (const auto* l = std::get_if<StringList>(&value))
    for (const auto& s : *l) check_choice(s);
}

}  // namespace grokscope
