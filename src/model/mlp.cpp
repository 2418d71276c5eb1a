#include "grokscope/model/mlp.hpp"

#include <cmath>

#include "grokscope/core/error.hpp"

namespace grokscope {

MlpImpl::MlpImpl(const MlpOptions& options) : options_(options) {
  check_activation(options.activation);
  if (options.parameterization != "standard" && options.parameterization != "ntk")
    throw ConfigError("model.parameterization", "unknown parameterization '" + options.parameterization + "'");
  if (!(options.output_scale > 0)) throw ConfigError("model.output_scale", "must be > 0");
  if (!(options.init_scale > 0)) throw ConfigError("model.init_scale", "must be > 0");
  std::int64_t fan_in = options.inputs;
  std::vector<std::int64_t> outs = options.widths;
  outs.push_back(options.outputs);
  for (std::size_t l = 0; l < outs.size(); ++l) {
    const std::string name = l + 1 == outs.size() ? "logits" : "fc" + std::to_string(l + 1);
    linears_.push_back(register_module(name, torch::nn::Linear(fan_in, outs[l])));
    fan_in = outs[l];
  }
  if (options.parameterization == "ntk") {
    torch::NoGradGuard no_grad;
    for (auto& linear : linears_) {
      linear->weight.normal_(0.0, 1.0);
      linear->bias.normal_(0.0, 1.0);
    }
  }
  scale_parameters(*this, options.init_scale);
}

double MlpImpl::weight_multiplier(std::size_t layer) const {
  if (options_.parameterization == "standard") return 1.0;
  return 1.0 / std::sqrt(static_cast<double>(linears_.at(layer)->weight.size(1)));
}

torch::Tensor MlpImpl::pre_activation(std::size_t layer, const torch::Tensor& a) const {
  // z = s W a + b, as one fused GEMM (what nn::Linear does for s = 1).
  const auto& lin = linears_[layer];
  return torch::addmm(lin->bias, a, lin->weight.t(), /*beta=*/1.0, /*alpha=*/weight_multiplier(layer));
}

torch::Tensor MlpImpl::activate(const torch::Tensor& z) const { return apply_activation(options_.activation, z); }

NamedTensors MlpImpl::forward_taps(const torch::Tensor& x) {
  NamedTensors taps;
  torch::Tensor a = x;
  for (std::size_t l = 0; l < linears_.size(); ++l) {
    torch::Tensor z = pre_activation(l, a);
    if (l + 1 == linears_.size()) {
      taps.emplace_back("logits", z);
    } else {
      taps.emplace_back("fc" + std::to_string(l + 1), z);
      a = activate(z);
      taps.emplace_back(options_.activation + std::to_string(l + 1), a);
    }
  }
  return taps;
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  torch::Tensor a = x;
  const std::size_t last = linears_.size() - 1;
  for (std::size_t l = 0; l <= last; ++l) {
    torch::Tensor z = pre_activation(l, a);
    a = l == last ? z : activate(z);
  }
  return options_.output_scale == 1.0 ? a : a * options_.output_scale;
}

std::vector<std::string> MlpImpl::layer_names() const {
  std::vector<std::string> names;
  for (std::size_t l = 0; l + 1 < linears_.size(); ++l) {
    names.push_back("fc" + std::to_string(l + 1));
    names.push_back(options_.activation + std::to_string(l + 1));
  }
  names.push_back("logits");
  return names;
}

std::vector<std::pair<std::string, std::vector<torch::Tensor>>> MlpImpl::layer_parameters() const {
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> layers;
  for (std::size_t l = 0; l < linears_.size(); ++l)
    layers.push_back({l + 1 == linears_.size() ? "logits" : "fc" + std::to_string(l + 1),
                      {linears_[l]->weight, linears_[l]->bias}});
  return layers;
}

}  // namespace grokscope
