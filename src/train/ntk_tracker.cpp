#include "grokscope/train/ntk_tracker.hpp"

#include <limits>

#include "grokscope/core/log.hpp"
#include "grokscope/ntk/kernel.hpp"
#include "grokscope/ntk/ntk.hpp"

namespace grokscope {
namespace {
constexpr const char* kMetrics[] = {"distance_init", "distance_prev", "velocity", "relative_change",
                                    "alignment",     "effective_rank", "top_eigenvalue"};
}

NtkTracker::NtkTracker(std::vector<Probe> probes, std::int64_t classes, Communicator* comm)
    : probes_(std::move(probes)), classes_(classes), comm_(comm) {}

std::vector<std::string> NtkTracker::metric_names_for(const std::vector<std::string>& probe_names) {
  std::vector<std::string> names;
  for (const auto& probe : probe_names)
    for (const char* metric : kMetrics) names.push_back("ntk/" + probe + "/" + metric);
  return names;
}

std::vector<std::string> NtkTracker::metric_names() const {
  std::vector<std::string> probe_names;
  for (const auto& probe : probes_) probe_names.push_back(probe.name);
  return metric_names_for(probe_names);
}

void NtkTracker::measure(Network& model, std::int64_t step, MetricValues& out) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const bool first = initial_.empty();
  std::vector<torch::Tensor> kernels;
  for (std::size_t p = 0; p < probes_.size(); ++p) {
    const Probe& probe = probes_[p];
    // Kernel metrics run on the host (the kernel is small next to the work that made it).
    torch::Tensor k = empirical_ntk(model, probe.x, comm_).to(torch::kCPU);
    const torch::Tensor tr = traced_kernel(k, classes_);
    const std::string prefix = "ntk/" + probe.name + "/";
    const double d_prev = first ? nan : kernel_distance(k, previous_[p]);
    std::string why;
    const double alignment = centered_alignment(tr, probe.labels, classes_, &why);
    if (!why.empty() && first) logging::warn("NTK alignment on probe '" + probe.name + "': " + why);
    const auto top = top_eigenvalues(tr, 1);
    out.emplace_back(prefix + "distance_init", first ? 0.0 : kernel_distance(k, initial_[p]));
    out.emplace_back(prefix + "distance_prev", d_prev);
    out.emplace_back(prefix + "velocity", first ? nan : d_prev / double(step - previous_step_));
    out.emplace_back(prefix + "relative_change", first ? 0.0 : relative_change(k, initial_[p]));
    out.emplace_back(prefix + "alignment", alignment);
    out.emplace_back(prefix + "effective_rank", effective_rank(tr));
    out.emplace_back(prefix + "top_eigenvalue", top.empty() ? nan : top.front());
    kernels.push_back(std::move(k));
  }
  if (first) initial_ = kernels;
  previous_ = std::move(kernels);
  previous_step_ = step;
}

void NtkTracker::restore(Network& initial, Network& previous, std::int64_t previous_step) {
  initial_.clear();
  previous_.clear();
  for (const auto& probe : probes_) initial_.push_back(empirical_ntk(initial, probe.x, comm_).to(torch::kCPU));
  for (const auto& probe : probes_) previous_.push_back(empirical_ntk(previous, probe.x, comm_).to(torch::kCPU));
  previous_step_ = previous_step;
}

}  // namespace grokscope
