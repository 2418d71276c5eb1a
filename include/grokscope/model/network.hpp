#pragma once
// What the trainer and the metric engines need from any architecture: the logits (output scale
// applied), every layer's output by name (for geometry), and the parameters grouped by layer (for
// per-layer weight norms). MLP and CNN implement it; make_network builds one from a config.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace grokscope {

class Config;

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

class Network : public torch::nn::Module {
 public:
  // Logits × output_scale. Inputs are flat rows (n × features); image models reshape them.
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  // (name, output) of every layer in order, ending with "logits" (before the output scale).
  virtual NamedTensors forward_taps(const torch::Tensor& x) = 0;
  virtual std::vector<std::string> layer_names() const = 0;
  // Parameters grouped by the layer that owns them ("fc1", ..., "logits"), weights and biases.
  virtual std::vector<std::pair<std::string, std::vector<torch::Tensor>>> layer_parameters() const = 0;
};

struct InputShape {
  std::int64_t height = 28, width = 28;  // features = height × width (one channel)
  std::int64_t classes = 10;
};

// Builds the network of `config` (model.*) for inputs of `shape`, with torch's RNG seeded by the
// caller. Throws ConfigError naming the model key that does not fit the data.
std::shared_ptr<Network> make_network(const Config& config, const InputShape& shape);

// The element-wise activations of model.activation: relu, tanh, gelu (exact, erf-based).
void check_activation(const std::string& name);  // ConfigError("model.activation") if unknown
torch::Tensor apply_activation(const std::string& name, const torch::Tensor& z);

// Multiplies every parameter, biases included, by `scale` (the recipes' init_scale).
void scale_parameters(torch::nn::Module& module, double scale);

}  // namespace grokscope
