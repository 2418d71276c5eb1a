#include <gtest/gtest.h>

#include "grokscope/core/config.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/core/runtime.hpp"
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

std::string key_of(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

// The optimizer's per-parameter state that carries over a checkpoint: Adam(W)'s second moment or
// SGD's momentum buffer.
torch::Tensor moment(torch::optim::Optimizer& o, const std::string& optimizer, const torch::Tensor& p) {
  auto& s = *o.state().at(key_of(p));
  if (optimizer == "adamw") return static_cast<torch::optim::AdamWParamState&>(s).exp_avg_sq();
  if (optimizer == "adam") return static_cast<torch::optim::AdamParamState&>(s).exp_avg_sq();
  return static_cast<torch::optim::SGDParamState&>(s).momentum_buffer();
}

struct Case {
  std::string activation, loss, optimizer, parameterization, dtype;
  double momentum;
  int threads;
};

std::ostream& operator<<(std::ostream& os, const Case& k) {
  return os << k.activation << "/" << k.loss << "/" << k.optimizer << "(momentum " << k.momentum << ")/"
            << k.parameterization << "/" << k.dtype << "/" << k.threads << " threads";
}

Config config_of(const Case& k) {
  return Config::from_text("", "t",
                           {"model.widths=[12, 9]", "model.activation=" + k.activation, "train.loss=" + k.loss,
                            "train.optimizer=" + k.optimizer, "train.momentum=" + std::to_string(k.momentum),
                            "model.parameterization=" + k.parameterization, "train.weight_decay=0.05",
                            "train.lr=0.01", "model.init_scale=3", "model.output_scale=0.5"});
}

const InputShape kShape{4, 5, 4};  // 20 inputs, 4 classes

// A fresh model of `c` (seed 7) in `dtype`.
std::shared_ptr<Network> model_of(const Config& c, torch::Dtype dtype) {
  torch::manual_seed(7);
  auto net = make_network(c, kShape);
  net->to(dtype);
  return net;
}

}  // namespace

class FusedMlp : public ::testing::TestWithParam<Case> {};

// The fused step must do what LibTorch's autograd + optimizer do: the same losses, parameters and
// optimizer state, step after step (float64 to 1e-12, float32 to 2e-5 relative), including a last
// batch smaller than the others and one smaller than the thread team.
TEST_P(FusedMlp, MatchesTheAutogradStep) {
  const Case k = GetParam();
  const Config c = config_of(k);
  const auto dtype = k.dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
  auto reference = model_of(c, dtype), fused_model = model_of(c, dtype);
  auto ref_opt = make_optimizer(c, *reference), fused_opt = make_optimizer(c, *fused_model);
  FusedMlpStep fused(dynamic_cast<MlpImpl&>(*fused_model), *fused_opt, c, k.threads);

  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({40, 20}).to(dtype);
  const torch::Tensor y = torch::randint(4, {40}, torch::kInt64);
  const double tolerance = dtype == torch::kFloat64 ? 1e-12 : 2e-5;
  RandomStream stream(3);
  for (int step = 0; step < 25; ++step) {
    const std::int64_t batch = step == 23 ? 7 : step == 24 ? 1 : 16;
    std::vector<std::int64_t> index(static_cast<std::size_t>(batch));
    for (auto& i : index) i = static_cast<std::int64_t>(stream.below(40));
    const torch::Tensor idx = torch::tensor(index, torch::kInt64);
    const double ref_loss =
        train_step(*reference, *ref_opt, x.index_select(0, idx), y.index_select(0, idx), k.loss, 4).item<double>();
    const double fused_loss = fused.step(x, y, index.data(), batch);
    EXPECT_NEAR(fused_loss, ref_loss, tolerance * std::abs(ref_loss) + 1e-12) << "step " << step;
  }
  EXPECT_LT(max_relative_difference(reference->parameters(), fused_model->parameters()), 50 * tolerance);
  // The moments live in the optimizer's own state, so a checkpoint (optimizer.save) carries them.
  if (k.optimizer == "sgd" && k.momentum == 0) {  // plain SGD keeps no state, in either
    EXPECT_TRUE(ref_opt->state().empty());
    EXPECT_TRUE(fused_opt->state().empty());
    return;
  }
  std::vector<torch::Tensor> ref_m, fused_m;
  for (std::size_t i = 0; i < reference->parameters().size(); ++i) {
    ref_m.push_back(moment(*ref_opt, k.optimizer, reference->parameters()[i]));
    fused_m.push_back(moment(*fused_opt, k.optimizer, fused_model->parameters()[i]));
  }
  EXPECT_LT(max_relative_difference(ref_m, fused_m), 50 * tolerance);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FusedMlp,
    ::testing::Values(Case{"relu", "mse", "adamw", "standard", "float64", 0, 1},
                      Case{"relu", "mse", "adamw", "standard", "float64", 0, 2},
                      Case{"tanh", "cross_entropy", "adam", "standard", "float64", 0, 3},
                      Case{"gelu", "cross_entropy", "adamw", "ntk", "float64", 0, 2},
                      Case{"relu", "mse", "sgd", "ntk", "float64", 0.9, 2},
                      Case{"tanh", "mse", "sgd", "standard", "float64", 0, 1},
                      Case{"relu", "cross_entropy", "adamw", "standard", "float32", 0, 2},
                      Case{"gelu", "mse", "sgd", "standard", "float32", 0.5, 1},
                      Case{"tanh", "mse", "adamw", "standard", "float32", 0, 2}));

// The thread count changes which thread computes a number, never how: 1, 2 and 3 threads give
// bit-identical parameters (the property that lets results not depend on the machine's cores).
TEST(FusedMlpThreads, TeamSizeDoesNotChangeTheNumbers) {
  const Case k{"relu", "mse", "adamw", "standard", "float32", 0, 1};
  const Config c = config_of(k);
  torch::manual_seed(1);
  const torch::Tensor x = torch::rand({50, 20});
  const torch::Tensor y = torch::randint(4, {50}, torch::kInt64);
  std::vector<std::vector<torch::Tensor>> finals;
  for (int threads : {1, 2, 3}) {
    auto net = model_of(c, torch::kFloat32);
    auto opt = make_optimizer(c, *net);
    FusedMlpStep fused(dynamic_cast<MlpImpl&>(*net), *opt, c, threads);
    if (blas_threads_settable()) {
      EXPECT_EQ(fused.team_size(), threads);
    }
    RandomStream stream(5);
    for (int step = 0; step < 30; ++step) {
      std::vector<std::int64_t> index(17);  // 17 rows: uneven shares for 2 and 3 threads
      for (auto& i : index) i = static_cast<std::int64_t>(stream.below(50));
      fused.step(x, y, index.data(), 17);
    }
    finals.push_back({});
    for (const auto& p : net->parameters()) finals.back().push_back(p.detach().clone());
  }
  for (std::size_t t = 1; t < finals.size(); ++t)
    for (std::size_t i = 0; i < finals[0].size(); ++i)
      EXPECT_TRUE(torch::equal(finals[0][i], finals[t][i])) << "parameter " << i << ", team " << t + 1;
}

TEST(FusedMlpSupport, SaysWhyNot) {
  Config c = Config::defaults();
  c.set("model.arch", std::string("cnn"));
  auto cnn = make_network(c, InputShape{28, 28, 10});
  EXPECT_EQ(FusedMlpStep::unsupported_reason(*cnn, c), "not an MLP");
  c.set("model.arch", std::string("mlp"));
  auto mlp = make_network(c, InputShape{28, 28, 10});
  EXPECT_EQ(FusedMlpStep::unsupported_reason(*mlp, c), "");
  mlp->to(torch::kFloat16);
  EXPECT_EQ(FusedMlpStep::unsupported_reason(*mlp, c), "dtype not float32/64");
}

// Bad input is one clear error, and the parameters are left as they were.
TEST(FusedMlpSupport, RefusesWhatItDoesNotCover) {
  const Config c = Config::defaults();
  auto mlp = make_network(c, InputShape{28, 28, 10});
  auto opt = make_optimizer(c, *mlp);
  FusedMlpStep fused(dynamic_cast<MlpImpl&>(*mlp), *opt, c, 1);
  const torch::Tensor before = mlp->parameters().front().detach().clone();
  const torch::Tensor y = torch::zeros({4}, torch::kInt64);
  const std::vector<std::int64_t> rows{0, 1, 2, 3};
  EXPECT_THROW(fused.step(torch::zeros({4, 784}, torch::kFloat64), y, rows.data(), 4), UsageError);  // dtype
  EXPECT_THROW(fused.step(torch::zeros({4, 100}), y, rows.data(), 4), UsageError);                   // width
  EXPECT_TRUE(torch::equal(before, mlp->parameters().front()));
}
