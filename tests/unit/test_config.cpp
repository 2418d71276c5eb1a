#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "grokscope/core/config.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/grid.hpp"
#include "grokscope/core/schema.hpp"

using namespace grokscope;

namespace {
// Runs `f` and returns the ConfigError message (fails the test if none is thrown).
template <typename F>
std::string config_error(F f, std::string* key = nullptr) {
  try {
    f();
  } catch (const ConfigError& e) {
    if (key) *key = e.key();
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError thrown";
  return {};
}
}  // namespace

TEST(Config, DefaultsCoverEverySchemaKey) {
  const Config c = Config::defaults();
  for (const auto& spec : config_schema()) EXPECT_NO_THROW(c.value(spec.key)) << spec.key;
  EXPECT_EQ(c.integer("train.batch_size"), 200);
  EXPECT_EQ(c.seeds(), IntList{0});
}

TEST(Config, LoadsNestedAndDottedKeys) {
  const Config c = Config::from_text(
      "train:\n  lr: 0.01\n  steps: 1e5\nmodel.init_scale: 8\nmodel:\n  widths: [128, 512, 128]\n", "t");
  EXPECT_DOUBLE_EQ(c.number("train.lr"), 0.01);
  EXPECT_EQ(c.integer("train.steps"), 100000);  // integral scientific notation is an integer
  EXPECT_DOUBLE_EQ(c.number("model.init_scale"), 8.0);
  EXPECT_EQ(c.integers("model.widths"), (IntList{128, 512, 128}));
}

TEST(Config, OverridesSetAndSweep) {
  const Config c = Config::from_text("train:\n  lr: 0.01\n", "t",
                                     {"train.lr=0.002", "model.init_scale=2,8", "seeds=3",
                                      "model.widths=[64, 64]"});
  EXPECT_DOUBLE_EQ(c.number("train.lr"), 0.002);
  ASSERT_EQ(c.grid().size(), 1u);
  EXPECT_EQ(c.grid()[0].key, "model.init_scale");
  EXPECT_EQ(c.grid()[0].values.size(), 2u);
  EXPECT_EQ(c.seeds(), (IntList{0, 1, 2}));
  EXPECT_EQ(c.integers("model.widths"), (IntList{64, 64}));
}

TEST(Config, ExplicitOverrideReplacesGridAxis) {
  const Config c = Config::from_text("grid:\n  model.init_scale: [2, 8]\n", "t", {"model.init_scale=4"});
  EXPECT_TRUE(c.grid().empty());
  EXPECT_DOUBLE_EQ(c.number("model.init_scale"), 4.0);
}

TEST(Config, MalformedYamlNamesLineAndColumn) {
  const std::string msg = config_error([] { Config::from_text("train:\n  lr: [1, 2\nmodel: {\n", "f.yaml"); });
  EXPECT_NE(msg.find("f.yaml:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed YAML"), std::string::npos) << msg;
  EXPECT_TRUE(std::regex_search(msg, std::regex("f\\.yaml:[0-9]+:[0-9]+"))) << msg;
}

TEST(Config, UnknownKeySuggestsTheClosest) {
  std::string key;
  std::string msg = config_error([] { Config::from_text("train:\n  lrr: 0.1\n", "t"); }, &key);
  EXPECT_EQ(key, "train.lrr");
  EXPECT_NE(msg.find("did you mean 'train.lr'"), std::string::npos) << msg;
  msg = config_error([] { Config::from_text("trian:\n  lr: 0.1\n", "t"); });
  EXPECT_NE(msg.find("did you mean 'train.lr'"), std::string::npos) << msg;
  msg = config_error([] { Config::from_text("completely_unrelated_thing: 1\n", "t"); });
  EXPECT_EQ(msg.find("did you mean"), std::string::npos) << msg;
}

TEST(Config, WrongTypeNamesKeyAndPosition) {
  std::string key;
  const std::string msg = config_error([] { Config::from_text("train:\n  batch_size: 12.5\n", "f.yaml"); }, &key);
  EXPECT_EQ(key, "train.batch_size");
  EXPECT_NE(msg.find("must be an integer"), std::string::npos) << msg;
  EXPECT_NE(msg.find("f.yaml:2:"), std::string::npos) << msg;
  EXPECT_NO_THROW(Config::from_text("model:\n  init_scale: 8\n", "t"));  // ints are numbers
  config_error([] { Config::from_text("model:\n  widths: 200\n", "t"); });
  config_error([] { Config::from_text("checkpoints:\n  include_zero: maybe\n", "t"); });
  config_error([] { Config::from_text("train: 3\n", "t"); });  // a section given a scalar
}

TEST(Config, OutOfRangeValues) {
  std::string key;
  config_error([] { Config::from_text("train:\n  lr: -0.001\n", "t"); }, &key);
  EXPECT_EQ(key, "train.lr");
  config_error([] { Config::from_text("train:\n  lr: 0\n", "t"); }, &key);
  EXPECT_EQ(key, "train.lr");
  config_error([] { Config::from_text("train:\n  batch_size: 0\n", "t"); }, &key);
  EXPECT_EQ(key, "train.batch_size");
  config_error([] { Config::from_text("model:\n  output_scale: 0\n", "t"); }, &key);
  EXPECT_EQ(key, "model.output_scale");
  config_error([] { Config::from_text("model:\n  widths: [200, 0]\n", "t"); }, &key);
  EXPECT_EQ(key, "model.widths");
  config_error([] { Config::from_text("train:\n  lr: .nan\n", "t"); }, &key);
  EXPECT_EQ(key, "train.lr");
  config_error([] { Config::from_text("model:\n  activation: sigmoid\n", "t"); }, &key);
  EXPECT_EQ(key, "model.activation");
  config_error([] { Config::from_text("metrics:\n  geometry:\n    kappa: 0.5\n", "t"); }, &key);
  EXPECT_EQ(key, "metrics.geometry.kappa");
  config_error([] { Config::from_text("train:\n  steps: 100\ncheckpoints:\n  extra: [500]\n", "t"); }, &key);
  EXPECT_EQ(key, "checkpoints.extra");
  config_error([] { Config::from_text("grid:\n  model.init_scale: [1, -2]\n", "t"); }, &key);
  EXPECT_EQ(key, "model.init_scale");
}

TEST(Config, EmptyGridIsAnError) {
  config_error([] { Config::from_text("grid:\n  model.init_scale: []\n", "t"); });
  config_error([] { Config::from_text("seeds: []\n", "t"); });
  config_error([] { Config::from_text("seeds: 0\n", "t"); });
}

TEST(Config, MissingFileIsAnInputError) {
  EXPECT_THROW(Config::from_file("/nonexistent/grokscope.yaml"), InputError);
}

TEST(Config, BadOverrides) {
  config_error([] { Config::from_text("", "t", {"train.lr"}); });
  config_error([] { Config::from_text("", "t", {"train.lr=abc"}); });
  config_error([] { Config::from_text("", "t", {"train.lr=0.1,-1"}); });
}

TEST(Config, ResolvedYamlRoundTrips) {
  const Config a = Config::from_text("train:\n  lr: 0.003\ngrid:\n  model.init_scale: [2, 8]\nseeds: [3, 4]\n", "t");
  const Config b = Config::from_text(a.to_yaml(), "round-trip");
  EXPECT_EQ(a.to_yaml(), b.to_yaml());
  EXPECT_EQ(a.flattened(), b.flattened());
}

TEST(Grid, MixedRadixOrderAndStableIds) {
  const Config c = Config::from_text(
      "grid:\n  train.weight_decay: [0, 0.01]\n  model.init_scale: [2, 8, 16]\nseeds: [0, 1]\n", "t");
  const auto runs = expand_grid(c);
  ASSERT_EQ(runs.size(), 12u);
  // Axes sorted by key: model.init_scale is most significant, then weight_decay, seeds last.
  EXPECT_EQ(runs[0].id, "r000000");
  EXPECT_EQ(runs[11].id, "r000011");
  EXPECT_DOUBLE_EQ(runs[0].config.number("model.init_scale"), 2.0);
  EXPECT_DOUBLE_EQ(runs[2].config.number("train.weight_decay"), 0.01);
  EXPECT_EQ(runs[1].seed, 1);
  EXPECT_EQ(runs[1].condition, 0u);
  EXPECT_DOUBLE_EQ(runs[4].config.number("model.init_scale"), 8.0);
  EXPECT_EQ(runs[4].condition, 2u);
  // The same config written in another key order gives the same ids for the same points.
  const Config d = Config::from_text(
      "seeds: [0, 1]\ngrid:\n  model.init_scale: [2, 8, 16]\n  train.weight_decay: [0, 0.01]\n", "t");
  const auto again = expand_grid(d);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].label(), again[i].label());
    EXPECT_EQ(runs[i].config.to_yaml(), again[i].config.to_yaml());
  }
}

TEST(Grid, CrossFieldRulesHoldAtEveryPoint) {
  EXPECT_THROW(expand_grid(Config::from_text("checkpoints:\n  extra: [500]\ngrid:\n  train.steps: [1000, 100]\n", "t")),
               ConfigError);
}
