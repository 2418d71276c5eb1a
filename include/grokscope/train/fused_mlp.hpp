#pragma once
// A hand-fused training step for the MLP (standard parameterization, relu or tanh, MSE or
// cross-entropy, AdamW or Adam): forward, backward and the optimizer update as BLAS GEMMs plus one
// fused loop per layer, with no autograd graph and no temporary tensors.
//
// It works in place on the model's own parameter tensors and keeps the moments in the LibTorch
// optimizer's own state entries, so checkpoints (optimizer.save), resume, metrics and taps see
// exactly what the autograd path would have left there. The unit tests check it against the
// autograd step (train/step.hpp); bench/train_step.sh measures it against PyTorch.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "grokscope/model/mlp.hpp"

namespace grokscope {

class Config;

class FusedMlpStep {
 public:
  // Empty when the fused step supports this model and config; otherwise why not (for a log line).
  static std::string unsupported_reason(const Network& model, const Config& config);

  FusedMlpStep(MlpImpl& model, torch::optim::Optimizer& optimizer, const Config& config);
  ~FusedMlpStep();
  FusedMlpStep(const FusedMlpStep&) = delete;
  FusedMlpStep& operator=(const FusedMlpStep&) = delete;

  // One optimizer step on rows `index[0..batch)` of `x` (n × inputs, contiguous) with labels `y`;
  // returns the batch loss before the step.
  double step(const torch::Tensor& x, const torch::Tensor& y, const std::int64_t* index, std::int64_t batch);

  struct Impl;  // per scalar type (src/train/fused_mlp.cpp)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace grokscope
