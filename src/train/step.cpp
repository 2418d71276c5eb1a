#include "grokscope/train/step.hpp"

#include "grokscope/core/config.hpp"
#include "grokscope/core/error.hpp"

namespace grokscope {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& c, Network& model) {
  const std::string name = c.text("train.optimizer");
  const double lr = c.number("train.lr"), wd = c.number("train.weight_decay");
  if (name == "adamw")
    return std::make_unique<torch::optim::AdamW>(model.parameters(),
                                                 torch::optim::AdamWOptions(lr).weight_decay(wd));
  if (name == "adam")
    return std::make_unique<torch::optim::Adam>(model.parameters(),
                                                torch::optim::AdamOptions(lr).weight_decay(wd));
  if (name == "sgd")
    return std::make_unique<torch::optim::SGD>(
        model.parameters(),
        torch::optim::SGDOptions(lr).weight_decay(wd).momentum(c.number("train.momentum")));
  throw ConfigError("train.optimizer", "unknown optimizer '" + name + "'");
}

torch::Tensor loss_of(const torch::Tensor& out, const torch::Tensor& y, const std::string& loss,
                      std::int64_t classes) {
  if (loss == "mse")
    return torch::mse_loss(out, torch::one_hot(y, classes).to(out.scalar_type()));
  if (loss == "cross_entropy") return torch::nn::functional::cross_entropy(out, y);
  throw ConfigError("train.loss", "unknown loss '" + loss + "'");
}

torch::Tensor train_step(Network& model, torch::optim::Optimizer& optimizer, const torch::Tensor& x,
                         const torch::Tensor& y, const std::string& loss, std::int64_t classes) {
  optimizer.zero_grad();
  torch::Tensor value = loss_of(model.forward(x), y, loss, classes);
  value.backward();
  optimizer.step();
  return value;
}

}  // namespace grokscope
