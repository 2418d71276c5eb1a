#pragma once
// Follows a run's empirical NTK on fixed probe sets from checkpoint to checkpoint: it keeps the
// kernel of the run's OWN first checkpoint and of the previous one, and reports per probe set
// (metrics.md §1) distance_init, distance_prev, velocity (distance_prev / Δsteps),
// relative_change, alignment and effective_rank (both on the traced kernel), top_eigenvalue.
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "grokscope/dist/communicator.hpp"
#include "grokscope/model/network.hpp"

namespace grokscope {

using MetricValues = std::vector<std::pair<std::string, double>>;

class NtkTracker {
 public:
  struct Probe {
    std::string name;  // "train" or "test"
    torch::Tensor x;   // probe inputs (n × features), the model's dtype
    std::vector<std::int64_t> labels;
  };
  NtkTracker(std::vector<Probe> probes, std::int64_t classes, Communicator* comm);

  // The metric names measure() appends, in order.
  std::vector<std::string> metric_names() const;
  static std::vector<std::string> metric_names_for(const std::vector<std::string>& probe_names);
  // Appends "ntk/<probe>/<metric>" for `model` at `step`, then makes this kernel the previous one.
  void measure(Network& model, std::int64_t step, MetricValues& out);
  // After a resume: recomputes the reference kernels from the parameters they were taken at.
  void restore(Network& initial, Network& previous, std::int64_t previous_step);
  // The latest kernel of each probe (for storage), in probe order.
  const std::vector<torch::Tensor>& latest() const { return previous_; }

 private:
  std::vector<Probe> probes_;
  std::int64_t classes_;
  Communicator* comm_;
  std::vector<torch::Tensor> initial_, previous_;
  std::int64_t previous_step_ = -1;
};

}  // namespace grokscope
