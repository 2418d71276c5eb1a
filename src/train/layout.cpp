#include "grokscope/train/layout.hpp"

#include <torch/torch.h>

#include <map>

#include "grokscope/core/random.hpp"
#include "grokscope/core/schedule.hpp"
#include "grokscope/model/network.hpp"
#include "grokscope/train/geometry_tracker.hpp"
#include "grokscope/train/ntk_tracker.hpp"

namespace grokscope {
namespace {

// One-line definitions (and units) of the series, by the last components of their path.
struct Definition {
  const char* definition;
  const char* unit;
};
const std::map<std::string, Definition>& definitions() {
  static const std::map<std::string, Definition> table = {
      {"train_loss", {"loss on the full training split (MSE: mean over all elements)", ""}},
      {"test_loss", {"loss on the full test split", ""}},
      {"train_accuracy", {"argmax accuracy on the full training split", "fraction"}},
      {"test_accuracy", {"argmax accuracy on the full test split", "fraction"}},
      {"weight_norm", {"L2 norm of all parameters, biases included", ""}},
      {"layer_norm", {"L2 norm of one layer's weights and bias", ""}},
      {"distance_init", {"kernel distance 1 - <K0,K>_F/(|K0|_F |K|_F) to the run's first-checkpoint NTK", ""}},
      {"distance_prev", {"kernel distance to the previous checkpoint's NTK", ""}},
      {"velocity", {"distance_prev / steps since the previous checkpoint", "1/step"}},
      {"relative_change", {"|K - K0|_F / |K0|_F", ""}},
      {"alignment", {"centered kernel-target alignment of the class-traced NTK with one-hot labels", ""}},
      {"effective_rank", {"(sum of eigenvalues)^2 / sum of squared eigenvalues of the class-traced NTK", ""}},
      {"top_eigenvalue", {"largest eigenvalue of the class-traced NTK", ""}},
      {"kernel", {"the empirical NTK on the probe set, traced over outputs", ""}},
      {"mftma/capacity", {"MFTMA manifold capacity, harmonic mean over class manifolds", "points/dim"}},
      {"mftma/radius", {"MFTMA manifold radius, mean over manifolds (relative to the center norm)", ""}},
      {"mftma/dimension", {"MFTMA manifold dimension, mean over manifolds", ""}},
      {"mftma/center_correlation", {"mean |cos| between manifold centers before center removal", ""}},
      {"mftma/K", {"dimension of the removed center subspace", ""}},
      {"per_manifold/capacity", {"MFTMA capacity of each class manifold", "points/dim"}},
      {"per_manifold/radius", {"MFTMA radius of each class manifold", ""}},
      {"per_manifold/dimension", {"MFTMA dimension of each class manifold", ""}},
      {"glue/capacity", {"GLUE capacity P / E[a]", "points/dim"}},
      {"glue/radius", {"GLUE effective radius sqrt(E[c] / E[b - c])", ""}},
      {"glue/dimension", {"GLUE effective dimension E[b] / P", ""}},
      {"glue/utility", {"GLUE utility E[c] / E[a]", ""}},
      {"glue/center_alignment", {"mean |cos| between anchor centers", ""}},
      {"glue/axis_alignment", {"mean |cos| between anchor axes", ""}},
      {"glue/center_axis_alignment", {"mean |cos| between one manifold's center and another's axes", ""}},
      {"simcap/capacity", {"simulated capacity P / N_c (LP-exact separability, bisection)", "points/dim"}},
      {"participation_ratio", {"(sum of covariance eigenvalues)^2 / sum of squares, manifold points", "dims"}},
      {"probe_accuracy", {"ridge readout fitted on training activations, accuracy on the test split", "fraction"}},
  };
  return table;
}

Definition lookup(const std::string& path) {
  const auto& table = definitions();
  // Try the last two components, then the last one.
  const auto last = path.rfind('/');
  const auto before = last == std::string::npos ? std::string::npos : path.rfind('/', last - 1);
  if (before != std::string::npos) {
    auto it = table.find(path.substr(before + 1));
    if (it != table.end()) return it->second;
  }
  auto it = table.find(path.substr(last + 1));
  if (it != table.end()) return it->second;
  if (path.rfind("params/", 0) == 0) return {"the parameter tensor at the checkpoint", ""};
  if (path.rfind("metrics/layer_norm/", 0) == 0) return table.at("layer_norm");
  return {"(see metrics.md)", ""};
}

SeriesSpec series(const std::string& path, h5::Type type = h5::Type::Float64, std::vector<hsize_t> row = {}) {
  const Definition d = lookup(path);
  return {path, type, std::move(row), d.definition, d.unit};
}

Split probe_split(const Config& c, const Split& split, std::int64_t classes, const std::string& name,
                  std::int64_t count, const char* key) {
  const auto rows = class_balanced_sample(split.y, classes, count, static_cast<std::uint64_t>(c.integer("data.seed")),
                                          stream_tag(name), key);
  return select_rows(split, rows);
}

std::string join(const IntList& v) {
  std::string s;
  for (auto x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

}  // namespace

MeasurementInputs measurement_inputs(const Config& c, const Datasets& data) {
  MeasurementInputs in;
  if (c.flag("metrics.ntk.enabled"))
    for (const auto& name : c.strings("metrics.ntk.probes"))
      in.probes.emplace_back(name, probe_split(c, name == "train" ? data.train : data.test, data.classes,
                                               "ntk-probe-" + name, c.integer("metrics.ntk.probe_size"),
                                               "metrics.ntk.probe_size"));
  if (c.flag("metrics.geometry.enabled"))
    in.manifolds = probe_split(c, data.test, data.classes, "manifolds",
                               c.integer("metrics.geometry.points_per_class") * data.classes,
                               "metrics.geometry.points_per_class");
  return in;
}

std::string inputs_key(const Config& c) {
  std::string key;
  for (const auto& [k, v] : c.flattened())
    if (k.rfind("data.", 0) == 0 || k.rfind("metrics.ntk.", 0) == 0 || k == "metrics.geometry.enabled" ||
        k == "metrics.geometry.points_per_class")
      key += k + "=" + v + "\n";
  return key;
}

InputSet input_set(const MeasurementInputs& in, const std::string& group) {
  InputSet set;
  set.group = group;
  auto add = [&](const std::string& prefix, const Split& s) {
    set.arrays.push_back({prefix + "/x", s.x, {hsize_t(s.n), hsize_t(s.features)}, {}});
    set.arrays.push_back({prefix + "/y", {}, {}, s.y});
  };
  for (const auto& [name, split] : in.probes) add("probes/" + name, split);
  if (in.manifolds.n > 0) add("manifolds", in.manifolds);
  return set;
}

RunLayout describe_run(const RunPoint& run, const Datasets& data, const std::string& inputs_group) {
  const Config& c = run.config;
  RunLayout layout;
  layout.id = run.id;
  layout.inputs = inputs_group;
  layout.steps = checkpoint_steps(c);
  for (const auto& [key, value] : c.flattened()) layout.attributes.emplace_back(key, value);
  // The short names of results-file.md, next to the full keys.
  const IntList& widths = c.integers("model.widths");
  const std::pair<const char*, std::string> aliases[] = {
      {"dataset", c.text("data.dataset")},
      {"train_size", std::to_string(c.integer("data.train_size"))},
      {"width", join(widths)},
      {"depth", std::to_string(widths.size() + 1)},
      {"init_scale", c.flattened().at("model.init_scale")},
      {"output_scale", c.flattened().at("model.output_scale")},
      {"loss", c.text("train.loss")},
      {"optimizer", c.text("train.optimizer")},
      {"lr", c.flattened().at("train.lr")},
      {"weight_decay", c.flattened().at("train.weight_decay")},
      {"batch_size", std::to_string(c.integer("train.batch_size"))},
      {"steps", std::to_string(c.integer("train.steps"))},
      {"seed", std::to_string(run.seed)},
      {"label", run.label()}};
  for (const auto& [k, v] : aliases) layout.attributes.emplace_back(k, v);

  torch::manual_seed(0);
  const auto model = make_network(c, InputShape{data.train.height, data.train.width, data.classes});
  for (const char* m : {"train_loss", "train_accuracy", "test_loss", "test_accuracy", "weight_norm"})
    layout.series.push_back(series(std::string("metrics/") + m));
  for (const auto& layer : model->layer_parameters()) layout.series.push_back(series("metrics/layer_norm/" + layer.first));

  if (c.flag("metrics.ntk.enabled")) {
    for (const auto& name : NtkTracker::metric_names_for(c.strings("metrics.ntk.probes"))) layout.series.push_back(series(name));
    if (c.flag("metrics.ntk.store_kernels")) {
      // The full block kernel: (n·C) × (n·C), sample-major, outputs inner (ntk.hpp).
      const hsize_t n = static_cast<hsize_t>(c.integer("metrics.ntk.probe_size") * data.classes);
      for (const auto& probe : c.strings("metrics.ntk.probes"))
        layout.series.push_back(series("ntk/" + probe + "/kernel", h5::Type::Float32, {n, n}));
    }
  }
  if (c.flag("metrics.geometry.enabled")) {
    layout.layers = GeometryTracker::resolve_layers(c, *model);
    for (const auto& name : GeometryTracker::scalar_names(c, layout.layers)) layout.series.push_back(series(name));
    for (const auto& [name, length] :
         GeometryTracker::array_names(c, layout.layers, static_cast<std::size_t>(data.classes)))
      layout.series.push_back(series(name, h5::Type::Float64, {hsize_t(length)}));
  }
  if (c.flag("metrics.store_params")) {
    const h5::Type type = c.text("train.dtype") == "float64" ? h5::Type::Float64 : h5::Type::Float32;
    for (const auto& p : model->named_parameters()) {
      std::vector<hsize_t> shape(p.value().sizes().begin(), p.value().sizes().end());
      layout.series.push_back(series("params/" + p.key(), type, shape));
    }
  }
  return layout;
}

CheckpointValues checkpoint_values(const CheckpointRecord& r, const std::vector<std::string>& layer_norm_names) {
  CheckpointValues v;
  v.scalars = {{"metrics/train_loss", r.train_loss},
               {"metrics/train_accuracy", r.train_accuracy},
               {"metrics/test_loss", r.test_loss},
               {"metrics/test_accuracy", r.test_accuracy},
               {"metrics/weight_norm", r.weight_norm}};
  for (std::size_t i = 0; i < layer_norm_names.size() && i < r.layer_norms.size(); ++i)
    v.scalars.emplace_back("metrics/layer_norm/" + layer_norm_names[i], r.layer_norms[i]);
  v.scalars.insert(v.scalars.end(), r.metrics.begin(), r.metrics.end());
  v.arrays = r.arrays;
  return v;
}

}  // namespace grokscope
