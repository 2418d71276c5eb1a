#pragma once
// A small CNN, the second architecture: for each entry of `channels` a 3×3 convolution (padding 1),
// the activation and a 2×2 max-pool; then one linear layer to the logits. Same knobs as the MLP:
// every parameter × init_scale after PyTorch's default init, logits × output_scale.
// Taps: conv1, <act>1, pool1, conv2, ..., logits (before the output scale).
#include <string>
#include <vector>

#include "grokscope/model/network.hpp"

namespace grokscope {

struct CnnOptions {
  std::int64_t height = 28, width = 28;
  std::vector<std::int64_t> channels = {16, 32};
  std::int64_t outputs = 10;
  std::string activation = "relu";
  double init_scale = 1.0;
  double output_scale = 1.0;
};

class CnnImpl : public Network {
 public:
  explicit CnnImpl(const CnnOptions& options);
  torch::Tensor forward(const torch::Tensor& x) override;
  NamedTensors forward_taps(const torch::Tensor& x) override;
  std::vector<std::string> layer_names() const override;
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> layer_parameters() const override;

 private:
  torch::Tensor activate(const torch::Tensor& z) const;
  CnnOptions options_;
  std::vector<torch::nn::Conv2d> convs_;
  torch::nn::Linear head_{nullptr};
};

}  // namespace grokscope
