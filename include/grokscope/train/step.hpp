#pragma once
// The pieces of a training step, shared by the trainer and the step benchmark (LibTorch types).
#include <torch/torch.h>

#include <memory>
#include <string>

#include "grokscope/model/network.hpp"

namespace grokscope {

class Config;

// AdamW, Adam or SGD (with momentum) over the model's parameters, from train.*.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& config, Network& model);
// Mean loss: "mse" against one-hot targets (mean over all elements, like PyTorch's MSELoss) or
// "cross_entropy".
torch::Tensor loss_of(const torch::Tensor& logits, const torch::Tensor& labels, const std::string& loss,
                      std::int64_t classes);
// One optimizer step on a batch; returns the batch loss (before the step).
torch::Tensor train_step(Network& model, torch::optim::Optimizer& optimizer, const torch::Tensor& x,
                         const torch::Tensor& y, const std::string& loss, std::int64_t classes);

}  // namespace grokscope
