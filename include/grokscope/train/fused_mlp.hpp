#pragma once
// A hand-fused training step for the MLP on the CPU: forward, backward and the optimizer update as
// BLAS GEMMs plus element-wise loops, with no autograd graph and no temporary tensors, split by
// hand over the rank's threads (core/thread_team.hpp):
//
//   1. the batch's rows are cut into a fixed number of blocks; each thread carries its blocks
//      through the whole forward pass, the loss gradient and the backward pass of the row-wise
//      quantities (layer deltas): rows never meet, so no thread waits for another;
//   2. one barrier; then every layer's output units are cut into blocks the same way, and each
//      thread computes its blocks' weight and bias gradients (over all rows) and updates them.
//
// Every GEMM is single-threaded inside its thread, so the BLAS never forks per call, and no value
// is summed across threads. The blocks do not depend on the team's size (the BLAS's result depends
// on a product's shape), so a thread count changes which thread computes a number, not how.
//
// It works in place on the model's own parameter tensors and keeps the optimizer's moments in the
// LibTorch optimizer's own state entries, so checkpoints (optimizer.save), resume, metrics and
// taps see what the autograd path (train/step.hpp) would leave there. Covers what the recipes
// use: standard or NTK parameterization, relu/tanh/gelu, MSE or cross-entropy, output scale,
// AdamW/Adam/SGD with momentum, float32/float64. The unit tests check it against autograd.
#include <torch/torch.h>

#include <memory>
#include <string>

#include "grokscope/model/mlp.hpp"

namespace grokscope {

class Config;

class FusedMlpStep {
 public:
  // Empty when the fused step covers this model, config and device; otherwise why not.
  static std::string unsupported_reason(const Network& model, const Config& config);

  // `threads`: the cores this rank owns (the thread policy's count).
  FusedMlpStep(MlpImpl& model, torch::optim::Optimizer& optimizer, const Config& config, int threads);
  ~FusedMlpStep();
  FusedMlpStep(const FusedMlpStep&) = delete;
  FusedMlpStep& operator=(const FusedMlpStep&) = delete;

  // One optimizer step on rows `index[0..batch)` of `x` (n × inputs, contiguous, the parameters'
  // dtype) with labels `y` (int64); returns the batch loss before the step.
  double step(const torch::Tensor& x, const torch::Tensor& y, const std::int64_t* index, std::int64_t batch);

  // Threads the step is split over: the rank's threads (at most the 4 blocks) when the BLAS's own
  // thread count can be set to one meanwhile (OpenBLAS), else 1.
  int team_size() const { return team_; }

  struct Impl;  // per scalar type (src/train/fused_mlp.cpp)

 private:
  int threads_ = 1, team_ = 1;
  torch::Tensor first_weight_;  // the first layer's weight: the inputs' width and dtype
  std::unique_ptr<Impl> impl_;
};

}  // namespace grokscope
