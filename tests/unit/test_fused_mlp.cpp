#include <gtest/gtest.h>

#include "grokscope/core/config.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/train/fused_mlp.hpp"
#include "grokscope/train/step.hpp"

using namespace grokscope;

namespace {
double max_relative_difference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double scale = a[i].abs().max().item<double>() + 1e-30;
    worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>() / scale);
  }
  return worst;
}

struct Case {
  std::string activation, loss, optimizer, dtype;
};
}  // namespace

class FusedMlp : public ::testing::TestWithParam<Case> {};

// The fused step must do what LibTorch's autograd + optimizer do: same losses, same parameters,
// same optimizer state, step after step (float64 to 1e-12, float32 to 2e-5 relative).
TEST_P(FusedMlp, MatchesTheAutogradStep) {
  const Case k = GetParam();
  const Config c = Config::from_text("", "t",
                                     {"model.widths=[12, 9]", "model.activation=" + k.activation,
                                      "train.loss=" + k.loss, "train.optimizer=" + k.optimizer,
                                      "train.weight_decay=0.05", "train.lr=0.01", "model.init_scale=3",
                                      "model.output_scale=0.5"});
  const auto dtype = k.dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
  const InputShape shape{4, 5, 4};
  torch::manual_seed(7);
  auto reference = make_network(c, shape);
  torch::manual_seed(7);
  auto fused_model = make_network(c, shape);
  reference->to(dtype);
  fused_model->to(dtype);
  auto ref_opt = make_optimizer(c, *reference);
  auto fused_opt = make_optimizer(c, *fused_model);
  FusedMlpStep fused(dynamic_cast<MlpImpl&>(*fused_model), *fused_opt, c);

  const torch::Tensor x = torch::randn({40, 20}).to(dtype);
  const torch::Tensor y = torch::randint(4, {40}, torch::kInt64);
  const double tolerance = dtype == torch::kFloat64 ? 1e-12 : 2e-5;
  RandomStream stream(3);
  for (int step = 0; step < 25; ++step) {
    std::vector<std::int64_t> index(16);
    for (auto& i : index) i = static_cast<std::int64_t>(stream.below(40));
    const torch::Tensor idx = torch::tensor(index, torch::kInt64);
    const double ref_loss =
        train_step(*reference, *ref_opt, x.index_select(0, idx), y.index_select(0, idx), k.loss, 4).item<double>();
    const double fused_loss = fused.step(x, y, index.data(), 16);
    EXPECT_NEAR(fused_loss, ref_loss, tolerance * std::abs(ref_loss) + 1e-12) << "step " << step;
  }
  EXPECT_LT(max_relative_difference(reference->parameters(), fused_model->parameters()), 50 * tolerance);
  // The moments live in the optimizer's own state, so a checkpoint carries them.
  std::vector<torch::Tensor> ref_m, fused_m;
  for (std::size_t i = 0; i < reference->parameters().size(); ++i) {
    auto key = [](const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); };
    auto moment = [&](torch::optim::Optimizer& o, const torch::Tensor& p) {
      auto& s = *o.state().at(key(p));
      return k.optimizer == "adamw" ? static_cast<torch::optim::AdamWParamState&>(s).exp_avg_sq()
                                    : static_cast<torch::optim::AdamParamState&>(s).exp_avg_sq();
    };
    ref_m.push_back(moment(*ref_opt, reference->parameters()[i]));
    fused_m.push_back(moment(*fused_opt, fused_model->parameters()[i]));
  }
  EXPECT_LT(max_relative_difference(ref_m, fused_m), 50 * tolerance);
}

INSTANTIATE_TEST_SUITE_P(Cases, FusedMlp,
                         ::testing::Values(Case{"relu", "mse", "adamw", "float64"},
                                           Case{"tanh", "cross_entropy", "adam", "float64"},
                                           Case{"relu", "cross_entropy", "adamw", "float32"},
                                           Case{"tanh", "mse", "adamw", "float32"}));

TEST(FusedMlpSupport, SaysWhyNot) {
  Config c = Config::defaults();
  c.set("model.activation", std::string("gelu"));
  auto net = make_network(c, InputShape{28, 28, 10});
  EXPECT_EQ(FusedMlpStep::unsupported_reason(*net, c), "activation gelu");
  c.set("model.activation", std::string("relu"));
  c.set("train.optimizer", std::string("sgd"));
  EXPECT_EQ(FusedMlpStep::unsupported_reason(*net, c), "optimizer sgd");
}
