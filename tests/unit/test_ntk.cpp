#include <gtest/gtest.h>

#include "grokscope/core/config.hpp"
#include "grokscope/model/mlp.hpp"
#include "grokscope/ntk/kernel.hpp"
#include "grokscope/ntk/ntk.hpp"

using namespace grokscope;

namespace {
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}
MlpImpl random_mlp(const std::string& activation, const std::string& parameterization) {
  MlpOptions o;
  o.inputs = 7;
  o.widths = {6, 5};
  o.outputs = 3;
  o.activation = activation;
  o.parameterization = parameterization;
  o.init_scale = 2.5;
  o.output_scale = 0.7;
  torch::manual_seed(11);
  MlpImpl m(o);
  m.to(torch::kFloat64);
  return m;
}
}  // namespace

class StructuredNtk : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

// The structured formula against brute-force autograd Jacobians, float64.
TEST_P(StructuredNtk, EqualsTheAutogradKernel) {
  const auto [activation, parameterization] = GetParam();
  MlpImpl m = random_mlp(activation, parameterization);
  torch::manual_seed(2);
  const torch::Tensor x = torch::randn({9, 7}, torch::kFloat64);
  const torch::Tensor fast = structured_ntk(m, x);
  const torch::Tensor slow = generic_ntk(m, x);
  ASSERT_EQ(fast.sizes(), (std::vector<std::int64_t>{27, 27}));
  EXPECT_LE(relative_error(fast, slow), 1e-10);
  EXPECT_LE(relative_error(fast, fast.t()), 1e-14);  // symmetric
  const double smallest = torch::linalg::eigvalsh(fast, "L").min().item<double>();
  EXPECT_GE(smallest, -1e-10 * fast.abs().max().item<double>());  // positive semi-definite
}

INSTANTIATE_TEST_SUITE_P(Activations, StructuredNtk,
                         ::testing::Values(std::make_pair("relu", "standard"), std::make_pair("tanh", "standard"),
                                           std::make_pair("relu", "ntk"), std::make_pair("tanh", "ntk"),
                                           std::make_pair("gelu", "standard")));

TEST(StructuredNtk, BlocksAreIndependentOfTheBlockSize) {
  // Many samples force several row blocks; the answer must not change.
  MlpImpl m = random_mlp("relu", "standard");
  const torch::Tensor x = torch::randn({40, 7}, torch::kFloat64);
  const torch::Tensor whole = generic_ntk(m, x);
  EXPECT_LE(relative_error(structured_ntk(m, x), whole), 1e-10);
  EXPECT_TRUE(torch::equal(structured_ntk(m, x, nullptr, 1), structured_ntk(m, x, nullptr, 40)));
  EXPECT_LE(relative_error(structured_ntk(m, x, nullptr, 6), whole), 1e-10);
  EXPECT_EQ(ntk_block_samples(256, 47, 4), 7);  // 7 samples x 47 logits x 12032 columns x 4 B = 16 MB
}

TEST(GenericNtk, ServesTheCnn) {
  Config c = Config::defaults();
  c.set("model.arch", std::string("cnn"));
  c.set("model.channels", IntList{2});
  torch::manual_seed(5);
  auto net = make_network(c, InputShape{6, 6, 3});
  net->to(torch::kFloat64);
  const torch::Tensor x = torch::randn({4, 36}, torch::kFloat64);
  std::string path;
  const torch::Tensor k = empirical_ntk(*net, x, nullptr, &path);
  EXPECT_EQ(path, "generic");
  EXPECT_EQ(k.size(0), 12);
  EXPECT_LE(relative_error(k, k.t()), 1e-14);
  // Diagonal entries are squared Jacobian row norms: check one against a direct autograd pass.
  auto out = net->forward(x.narrow(0, 1, 1));
  auto grads = torch::autograd::grad({out[0][2]}, net->parameters());
  double sq = 0;
  for (auto& g : grads) sq += g.pow(2).sum().item<double>();
  EXPECT_NEAR(k[1 * 3 + 2][1 * 3 + 2].item<double>(), sq, 1e-10 * sq);
}

TEST(KernelMetrics, DistanceProperties) {
  torch::manual_seed(1);
  const torch::Tensor a = torch::randn({12, 12}, torch::kFloat64), b = torch::randn({12, 12}, torch::kFloat64);
  const torch::Tensor k1 = torch::mm(a, a.t()), k2 = torch::mm(b, b.t());  // PSD
  EXPECT_NEAR(kernel_distance(k1, k1), 0.0, 1e-15);
  EXPECT_NEAR(kernel_distance(k1, 3.7 * k1), 0.0, 1e-15);
  const double d = kernel_distance(k1, k2);
  EXPECT_GT(d, 0.0);
  EXPECT_LE(d, 1.0);
  EXPECT_NEAR(kernel_distance(k1, k2), kernel_distance(k2, k1), 1e-15);
  EXPECT_NEAR(relative_change(k1, k1), 0.0, 1e-7);
  EXPECT_NEAR(relative_change(2.0 * k1, k1), 1.0, 1e-12);
  const torch::Tensor pair = pairwise_distances({k1, k2, 2.0 * k1});
  EXPECT_NEAR(pair[0][1].item<double>(), d, 1e-15);
  EXPECT_NEAR(pair[0][2].item<double>(), 0.0, 1e-12);
  EXPECT_EQ(pair[1][1].item<double>(), 0.0);
}

TEST(KernelMetrics, AlignmentOfTheTargetKernelWithItselfIsOne) {
  const std::vector<std::int64_t> labels = {0, 1, 2, 0, 1, 2, 2, 0};
  const torch::Tensor y = torch::one_hot(torch::tensor(labels), 3).to(torch::kFloat64);
  EXPECT_NEAR(centered_alignment(torch::mm(y, y.t()), labels, 3), 1.0, 1e-12);
  torch::manual_seed(3);
  const torch::Tensor r = torch::randn({8, 8}, torch::kFloat64);
  const double random = centered_alignment(torch::mm(r, r.t()), labels, 3);
  EXPECT_LT(random, 1.0);
  EXPECT_GT(random, -1.0);
  std::string why;
  EXPECT_TRUE(std::isnan(centered_alignment(torch::mm(y, y.t()), std::vector<std::int64_t>(8, 1), 3, &why)));
  EXPECT_NE(why.find("single class"), std::string::npos);
}

TEST(KernelMetrics, SpectrumTraceAndEffectiveRank) {
  const torch::Tensor diag = torch::diag(torch::tensor({4.0, 1.0, 1.0, 0.0}, torch::kFloat64));
  const auto top = top_eigenvalues(diag, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_NEAR(top[0], 4.0, 1e-12);
  EXPECT_NEAR(top[1], 1.0, 1e-12);
  EXPECT_NEAR(effective_rank(diag), 36.0 / 18.0, 1e-12);
  EXPECT_NEAR(effective_rank(torch::eye(5, torch::kFloat64)), 5.0, 1e-12);
  // Traced kernel: mean of the diagonal of every C×C block.
  const torch::Tensor full = torch::arange(36, torch::kFloat64).view({6, 6});
  const torch::Tensor t = traced_kernel(full, 3);
  EXPECT_DOUBLE_EQ(t[0][1].item<double>(), (full[0][3].item<double>() + full[1][4].item<double>() + full[2][5].item<double>()) / 3);
  EXPECT_EQ(t.size(0), 2);
}
