#pragma once
// The MLP of the grokking recipes, with the knobs the studies turn:
//  - after PyTorch's default init, EVERY parameter (biases too) is multiplied by init_scale;
//  - logits are multiplied by output_scale;
//  - standard (PyTorch) or NTK parameterization: z_l = s_l W_l a_{l-1} + t_l b_l with s = t = 1
//    (standard) or s_l = 1/sqrt(fan_in), t_l = 1 and W, b ~ N(0, 1) (NTK).
// Every layer's output can be tapped by name (fc1, relu1, ..., logits) for geometry.
#include <string>
#include <vector>

#include "grokscope/model/network.hpp"

namespace grokscope {

struct MlpOptions {
  std::int64_t inputs = 784;
  std::vector<std::int64_t> widths = {200, 200};
  std::int64_t outputs = 10;
  std::string activation = "relu";         // relu | tanh | gelu
  std::string parameterization = "standard";  // standard | ntk
  double init_scale = 1.0;
  double output_scale = 1.0;
};

class MlpImpl : public Network {
 public:
  explicit MlpImpl(const MlpOptions& options);

  torch::Tensor forward(const torch::Tensor& x) override;  // logits × output_scale
  // fc1, <act>1, fc2, <act>2, ..., logits (before the output scale).
  NamedTensors forward_taps(const torch::Tensor& x) override;
  std::vector<std::string> layer_names() const override;
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> layer_parameters() const override;

  const MlpOptions& options() const { return options_; }
  const std::vector<torch::nn::Linear>& linears() const { return linears_; }
  // Per-layer multipliers s_l (weights) and t_l (biases) of the parameterization.
  double weight_multiplier(std::size_t layer) const;
  double bias_multiplier(std::size_t /*layer*/) const { return 1.0; }
  // z_l = s_l W_l a + t_l b_l for layer index `layer` (0-based).
  torch::Tensor pre_activation(std::size_t layer, const torch::Tensor& a) const;
  torch::Tensor activate(const torch::Tensor& z) const;

 private:
  MlpOptions options_;
  std::vector<torch::nn::Linear> linears_;
};
TORCH_MODULE(Mlp);

}  // namespace grokscope
