#pragma once
// Representational geometry of a run's layers at each checkpoint (metrics.md §2–§5): class
// manifolds of held-out points are pushed through the model, and per configured layer the tracker
// reports MFTMA, GLUE and (optionally) simulated capacity on them, the participation ratio of the
// layer's activations, and a linear probe fitted on training activations and scored on test ones.
// MFTMA/GLUE/simcap work is sharded over the run's group communicator.
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "grokscope/core/config.hpp"
#include "grokscope/dist/communicator.hpp"
#include "grokscope/model/network.hpp"
#include "grokscope/train/ntk_tracker.hpp"

namespace grokscope {

using ArrayValues = std::vector<std::pair<std::string, std::vector<double>>>;

class GeometryTracker {
 public:
  struct Inputs {
    torch::Tensor manifolds_x;  // (P·M) × features, model dtype; labels give the manifold
    std::vector<std::int64_t> manifolds_y;
    torch::Tensor train_x, test_x;  // for the linear probe
    std::vector<std::int64_t> train_y, test_y;
  };
  // Work is sharded over the ranks of `comm` and, for GLUE, over `threads` of this rank.
  GeometryTracker(const Config& config, std::vector<std::string> layers, Inputs inputs, std::int64_t classes,
                  Communicator* comm, int threads);

  // The layers the config asks for (metrics.geometry.layers), or by default every hidden
  // layer's activation and the logits. Throws ConfigError naming an unknown layer.
  static std::vector<std::string> resolve_layers(const Config& config, const Network& model);
  // Names measure() appends, in order: scalars, and (name, per-checkpoint length) for arrays.
  static std::vector<std::string> scalar_names(const Config& config, const std::vector<std::string>& layers);
  static std::vector<std::pair<std::string, std::size_t>> array_names(const Config& config,
                                                                       const std::vector<std::string>& layers,
                                                                       std::size_t classes);

  void measure(Network& model, MetricValues& scalars, ArrayValues& arrays);

 private:
  std::vector<std::string> layers_, methods_;
  Inputs inputs_;
  std::int64_t classes_;
  Communicator* comm_;
  int threads_;
  int n_t_, glue_n_t_;  // Gaussian samples of MFTMA and of GLUE
  std::uint64_t seed_;
};

}  // namespace grokscope
