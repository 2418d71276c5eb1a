#include "grokscope/model/cnn.hpp"

#include "grokscope/core/error.hpp"

namespace grokscope {

CnnImpl::CnnImpl(const CnnOptions& options) : options_(options) {
  check_activation(options.activation);
  if (!(options.output_scale > 0)) throw ConfigError("model.output_scale", "must be > 0");
  std::int64_t in = 1, h = options.height, w = options.width;
  for (std::size_t l = 0; l < options.channels.size(); ++l) {
    if (h < 2 || w < 2)
      throw ConfigError("model.channels", std::to_string(options.channels.size()) +
                                              " conv/pool stages shrink the " + std::to_string(options.height) +
                                              "x" + std::to_string(options.width) + " input below 1 pixel");
    convs_.push_back(register_module(
        "conv" + std::to_string(l + 1),
        torch::nn::Conv2d(torch::nn::Conv2dOptions(in, options.channels[l], 3).padding(1))));
    in = options.channels[l];
    h /= 2;
    w /= 2;
  }
  head_ = register_module("logits", torch::nn::Linear(in * h * w, options.outputs));
  scale_parameters(*this, options.init_scale);
}

torch::Tensor CnnImpl::activate(const torch::Tensor& z) const { return apply_activation(options_.activation, z); }

NamedTensors CnnImpl::forward_taps(const torch::Tensor& x) {
  NamedTensors taps;
  torch::Tensor a = x.reshape({x.size(0), 1, options_.height, options_.width});
  for (std::size_t l = 0; l < convs_.size(); ++l) {
    const std::string n = std::to_string(l + 1);
    torch::Tensor z = convs_[l]->forward(a);
    taps.emplace_back("conv" + n, z.flatten(1));
    a = activate(z);
    taps.emplace_back(options_.activation + n, a.flatten(1));
    a = torch::max_pool2d(a, 2);
    taps.emplace_back("pool" + n, a.flatten(1));
  }
  taps.emplace_back("logits", head_->forward(a.flatten(1)));
  return taps;
}

torch::Tensor CnnImpl::forward(const torch::Tensor& x) {
  torch::Tensor a = x.reshape({x.size(0), 1, options_.height, options_.width});
  for (auto& conv : convs_) a = torch::max_pool2d(activate(conv->forward(a)), 2);
  torch::Tensor logits = head_->forward(a.flatten(1));
  return options_.output_scale == 1.0 ? logits : logits * options_.output_scale;
}

std::vector<std::string> CnnImpl::layer_names() const {
  std::vector<std::string> names;
  for (std::size_t l = 0; l < convs_.size(); ++l) {
    const std::string n = std::to_string(l + 1);
    names.insert(names.end(), {"conv" + n, options_.activation + n, "pool" + n});
  }
  names.push_back("logits");
  return names;
}

std::vector<std::pair<std::string, std::vector<torch::Tensor>>> CnnImpl::layer_parameters() const {
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> layers;
  for (std::size_t l = 0; l < convs_.size(); ++l)
    layers.push_back({"conv" + std::to_string(l + 1), {convs_[l]->weight, convs_[l]->bias}});
  layers.push_back({"logits", {head_->weight, head_->bias}});
  return layers;
}

}  // namespace grokscope
