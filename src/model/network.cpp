#include "grokscope/model/network.hpp"

#include "grokscope/core/config.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/model/cnn.hpp"
#include "grokscope/model/mlp.hpp"

namespace grokscope {

void check_activation(const std::string& name) {
  if (name != "relu" && name != "tanh" && name != "gelu")
    throw ConfigError("model.activation", "unknown activation '" + name + "'");
}

torch::Tensor apply_activation(const std::string& name, const torch::Tensor& z) {
  if (name == "relu") return torch::relu(z);
  if (name == "tanh") return torch::tanh(z);
  return torch::gelu(z);
}

void scale_parameters(torch::nn::Module& module, double scale) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) p.mul_(scale);
}

std::shared_ptr<Network> make_network(const Config& config, const InputShape& shape) {
  const std::string arch = config.text("model.arch");
  if (arch == "mlp") {
    MlpOptions o;
    o.inputs = shape.height * shape.width;
    o.widths = config.integers("model.widths");
    o.outputs = shape.classes;
    o.activation = config.text("model.activation");
    o.parameterization = config.text("model.parameterization");
    o.init_scale = config.number("model.init_scale");
    o.output_scale = config.number("model.output_scale");
    return std::make_shared<MlpImpl>(o);
  }
  if (arch == "cnn") {
    if (config.text("model.parameterization") != "standard")
      throw ConfigError("model.parameterization", "the CNN supports only 'standard'");
    CnnOptions o;
    o.height = shape.height;
    o.width = shape.width;
    o.channels = config.integers("model.channels");
    o.outputs = shape.classes;
    o.activation = config.text("model.activation");
    o.init_scale = config.number("model.init_scale");
    o.output_scale = config.number("model.output_scale");
    return std::make_shared<CnnImpl>(o);
  }
  throw ConfigError("model.arch", "unknown architecture '" + arch + "'");
}

}  // namespace grokscope
