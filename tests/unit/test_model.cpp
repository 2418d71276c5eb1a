#include <gtest/gtest.h>
#include <torch/torch.h>

#include "grokscope/core/error.hpp"
#include "grokscope/core/config.hpp"
#include "grokscope/model/mlp.hpp"
#include "grokscope/model/network.hpp"

using namespace grokscope;

namespace {
MlpOptions small(double init_scale, double output_scale = 1.0) {
  MlpOptions o;
  o.inputs = 6;
  o.widths = {5, 4};
  o.outputs = 3;
  o.init_scale = init_scale;
  o.output_scale = output_scale;
  return o;
}
}  // namespace

TEST(Mlp, InitScaleMultipliesEveryParameterBiasesToo) {
  torch::manual_seed(3);
  Mlp base(small(1.0));
  torch::manual_seed(3);
  Mlp scaled(small(8.0));
  const auto a = base->parameters(), b = scaled->parameters();
  ASSERT_EQ(a.size(), 6u);  // 3 weights + 3 biases
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::allclose(b[i], 8.0 * a[i])) << i;
}

TEST(Mlp, OutputScaleAndTaps) {
  torch::manual_seed(1);
  Mlp m(small(1.0, 0.5));
  const torch::Tensor x = torch::randn({7, 6});
  const auto taps = m->forward_taps(x);
  std::vector<std::string> names;
  for (const auto& [name, t] : taps) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"fc1", "relu1", "fc2", "relu2", "logits"}));
  EXPECT_EQ(names, m->layer_names());
  EXPECT_TRUE(torch::allclose(m->forward(x), 0.5 * taps.back().second));
  EXPECT_TRUE(torch::equal(taps[1].second, torch::relu(taps[0].second)));
  EXPECT_EQ(taps[2].second.size(1), 4);
}

TEST(Mlp, NtkParameterizationScalesByFanIn) {
  MlpOptions o = small(1.0);
  o.parameterization = "ntk";
  o.activation = "tanh";
  torch::manual_seed(2);
  Mlp m(o);
  const torch::Tensor x = torch::randn({3, 6});
  const auto& l1 = m->linears()[0];
  const torch::Tensor z1 = torch::matmul(x, l1->weight.t()) / std::sqrt(6.0) + l1->bias;
  EXPECT_TRUE(torch::allclose(m->forward_taps(x)[0].second, z1, 1e-5, 1e-6));
  EXPECT_NEAR(l1->weight.std().item<double>(), 1.0, 0.5);  // N(0,1) weights, not U(+-1/sqrt(6))
}

TEST(Mlp, BadOptionsNameTheKey) {
  MlpOptions o = small(1.0);
  o.activation = "sigmoid";
  try {
    Mlp m(o);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "model.activation");
  }
  o = small(1.0, 0.0);
  EXPECT_THROW(Mlp{o}, ConfigError);
}

TEST(Cnn, TapsScalesAndFactory) {
  Config c = Config::defaults();
  c.set("model.arch", std::string("cnn"));
  c.set("model.channels", IntList{4, 6});
  c.set("model.init_scale", 3.0);
  c.set("model.output_scale", 0.5);
  torch::manual_seed(4);
  auto net = make_network(c, InputShape{28, 28, 10});
  c.set("model.init_scale", 1.0);
  torch::manual_seed(4);
  auto base = make_network(c, InputShape{28, 28, 10});
  const auto a = base->parameters(), b = net->parameters();
  ASSERT_EQ(a.size(), 6u);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::allclose(b[i], 3.0 * a[i])) << i;
  const torch::Tensor x = torch::rand({5, 784});
  const auto taps = net->forward_taps(x);
  std::vector<std::string> names;
  for (const auto& [name, t] : taps) names.push_back(name);
  EXPECT_EQ(names, net->layer_names());
  EXPECT_EQ(names, (std::vector<std::string>{"conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "logits"}));
  EXPECT_EQ(taps[2].second.size(1), 4 * 14 * 14);
  EXPECT_TRUE(torch::allclose(net->forward(x), 0.5 * taps.back().second));
  EXPECT_EQ(net->layer_parameters().size(), 3u);
}

TEST(Cnn, TooManyStagesForTheImageNamesTheKey) {
  Config c = Config::defaults();
  c.set("model.arch", std::string("cnn"));
  c.set("model.channels", IntList{2, 2, 2, 2, 2, 2});
  try {
    make_network(c, InputShape{28, 28, 10});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "model.channels");
  }
}
