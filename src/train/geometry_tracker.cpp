#include "grokscope/train/geometry_tracker.hpp"

#include <algorithm>
#include <limits>

#include "grokscope/core/error.hpp"
#include "grokscope/core/log.hpp"
#include "grokscope/geometry/glue.hpp"
#include "grokscope/geometry/mftma.hpp"
#include "grokscope/geometry/representation.hpp"
#include "grokscope/geometry/simcap.hpp"

namespace grokscope {
namespace {

constexpr const char* kMftma[] = {"capacity", "radius", "dimension", "center_correlation", "K"};
constexpr const char* kPerManifold[] = {"capacity", "radius", "dimension"};
constexpr const char* kGlue[] = {"capacity",         "radius",         "dimension",
                                 "utility",          "center_alignment", "axis_alignment",
                                 "center_axis_alignment"};

bool uses(const std::vector<std::string>& methods, const char* m) {
  return std::find(methods.begin(), methods.end(), m) != methods.end();
}

Eigen::MatrixXd to_eigen(const torch::Tensor& t) {  // rows × cols, row-major copy
  const torch::Tensor d = t.detach().to(torch::kCPU, torch::kFloat64).contiguous().reshape({t.size(0), -1});
  Eigen::MatrixXd m(d.size(0), d.size(1));
  const double* p = d.data_ptr<double>();
  for (long i = 0; i < m.rows(); ++i)
    for (long j = 0; j < m.cols(); ++j) m(i, j) = p[i * m.cols() + j];
  return m;
}

std::vector<int> as_int(const std::vector<std::int64_t>& v) { return std::vector<int>(v.begin(), v.end()); }

const torch::Tensor& tap(const NamedTensors& taps, const std::string& layer) {
  for (const auto& [name, value] : taps)
    if (name == layer) return value;
  throw UsageError("layer '" + layer + "' is not a tap of the model");
}

}  // namespace

GeometryTracker::GeometryTracker(const Config& config, std::vector<std::string> layers, Inputs inputs,
                                 std::int64_t classes, Communicator* comm, int threads)
    : layers_(std::move(layers)),
      methods_(config.strings("metrics.geometry.methods")),
      inputs_(std::move(inputs)),
      classes_(classes),
      comm_(comm),
      threads_(threads < 1 ? 1 : threads),
      n_t_(static_cast<int>(config.integer("metrics.geometry.n_t"))),
      glue_n_t_(config.integer("metrics.geometry.glue_n_t") > 0
                    ? static_cast<int>(config.integer("metrics.geometry.glue_n_t"))
                    : n_t_),
      seed_(static_cast<std::uint64_t>(config.integer("data.seed"))) {}

std::vector<std::string> GeometryTracker::resolve_layers(const Config& config, const Network& model) {
  const auto names = model.layer_names();
  const auto& wanted = config.strings("metrics.geometry.layers");
  if (wanted.empty()) {
    // Every hidden activation and the logits: the layers whose geometry the network uses.
    std::vector<std::string> out;
    for (const auto& n : names)
      if (n == "logits" || (n.rfind("fc", 0) != 0 && n.rfind("conv", 0) != 0)) out.push_back(n);
    return out;
  }
  for (const auto& w : wanted)
    if (std::find(names.begin(), names.end(), w) == names.end()) {
      std::string all;
      for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
      throw ConfigError("metrics.geometry.layers", "unknown layer '" + w + "'; the model's layers are " + all);
    }
  return wanted;
}

std::vector<std::string> GeometryTracker::scalar_names(const Config& config, const std::vector<std::string>& layers) {
  const auto& methods = config.strings("metrics.geometry.methods");
  std::vector<std::string> out;
  for (const auto& layer : layers) {
    const std::string p = "geometry/" + layer + "/";
    if (uses(methods, "mftma"))
      for (const char* m : kMftma) out.push_back(p + "mftma/" + m);
    if (uses(methods, "glue"))
      for (const char* m : kGlue) out.push_back(p + "glue/" + m);
    if (uses(methods, "simcap")) out.push_back(p + "simcap/capacity");
    out.push_back(p + "participation_ratio");
    out.push_back(p + "probe_accuracy");
  }
  return out;
}

std::vector<std::pair<std::string, std::size_t>> GeometryTracker::array_names(const Config& config,
                                                                            const std::vector<std::string>& layers,
                                                                            std::size_t classes) {
  std::vector<std::pair<std::string, std::size_t>> out;
  if (!uses(config.strings("metrics.geometry.methods"), "mftma")) return out;
  for (const auto& layer : layers)
    for (const char* m : kPerManifold) out.emplace_back("geometry/" + layer + "/mftma/per_manifold/" + m, classes);
  return out;
}

void GeometryTracker::measure(Network& model, MetricValues& scalars, ArrayValues& arrays) {
  torch::NoGradGuard no_grad;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // One forward pass per input set; every layer is read from its taps.
  const NamedTensors manifold_taps = model.forward_taps(inputs_.manifolds_x);
  const NamedTensors train_taps = model.forward_taps(inputs_.train_x);
  const NamedTensors test_taps = model.forward_taps(inputs_.test_x);
  for (const auto& layer : layers_) {
    const std::string p = "geometry/" + layer + "/";
    const Eigen::MatrixXd points = to_eigen(tap(manifold_taps, layer));  // n × N
    // Class manifolds as N × M column blocks, in class order.
    std::vector<Eigen::MatrixXd> manifolds;
    for (std::int64_t c = 0; c < classes_; ++c) {
      std::vector<long> rows;
      for (std::size_t i = 0; i < inputs_.manifolds_y.size(); ++i)
        if (inputs_.manifolds_y[i] == c) rows.push_back(static_cast<long>(i));
      Eigen::MatrixXd m(points.cols(), static_cast<long>(rows.size()));
      for (std::size_t k = 0; k < rows.size(); ++k) m.col(static_cast<long>(k)) = points.row(rows[k]).transpose();
      manifolds.push_back(std::move(m));
    }
    // A layer can be degenerate (e.g. all-zero ReLUs at a large init scale): record NaN with the
    // reason once rather than stopping the run.
    auto guarded = [&](const std::string& what, auto&& compute) {
      try {
        compute();
        return true;
      } catch (const UsageError& e) {
        logging::warn(what + " on layer " + layer + ": " + e.what() + "; recorded as NaN");
        return false;
      }
    };
    if (uses(methods_, "mftma")) {
      MftmaOptions o;
      o.n_t = n_t_;
      o.seed = seed_;
      MftmaResult r;
      const bool ok = guarded("MFTMA", [&] { r = mftma(manifolds, o, comm_); });
      const double v[] = {r.capacity, r.radius, r.dimension, r.center_correlation, double(r.K)};
      for (int i = 0; i < 5; ++i) scalars.emplace_back(p + "mftma/" + kMftma[i], ok ? v[i] : nan);
      const std::vector<double> none(static_cast<std::size_t>(classes_), nan);
      arrays.emplace_back(p + "mftma/per_manifold/capacity", ok ? r.capacity_per_manifold : none);
      arrays.emplace_back(p + "mftma/per_manifold/radius", ok ? r.radius_per_manifold : none);
      arrays.emplace_back(p + "mftma/per_manifold/dimension", ok ? r.dimension_per_manifold : none);
    }
    if (uses(methods_, "glue")) {
      GlueOptions o;
      o.n_t = glue_n_t_;
      o.seed = seed_;
      o.threads = threads_;
      GlueResult r;
      const bool ok = guarded("GLUE", [&] { r = glue(manifolds, o, comm_); });
      const double v[] = {r.capacity, r.radius, r.dimension, r.utility, r.center_alignment, r.axis_alignment,
                          r.center_axis_alignment};
      for (int i = 0; i < 7; ++i) scalars.emplace_back(p + "glue/" + kGlue[i], ok ? v[i] : nan);
    }
    if (uses(methods_, "simcap")) {
      SimcapOptions o;
      o.seed = seed_;
      SimcapResult r;
      const bool ok = guarded("simulated capacity", [&] { r = simulated_capacity(manifolds, o, comm_); });
      scalars.emplace_back(p + "simcap/capacity", ok ? r.capacity : nan);
    }
    double pr = nan, accuracy = nan;
    guarded("participation ratio", [&] { pr = participation_ratio(points); });
    guarded("linear probe", [&] {
      accuracy = probe_accuracy(to_eigen(tap(train_taps, layer)), as_int(inputs_.train_y),
                                to_eigen(tap(test_taps, layer)), as_int(inputs_.test_y),
                                static_cast<int>(classes_));
    });
    scalars.emplace_back(p + "participation_ratio", pr);
    scalars.emplace_back(p + "probe_accuracy", accuracy);
  }
}

}  // namespace grokscope
