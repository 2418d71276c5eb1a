#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "grokscope/core/error.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/train/trainer.hpp"

using namespace grokscope;
namespace fs = std::filesystem;

namespace {
// Two Gaussian blobs per class in 8 dimensions, 3 classes: learnable in a few hundred steps.
Datasets blobs(std::int64_t n_train, std::int64_t n_test) {
  Datasets d;
  d.name = "blobs";
  d.classes = 3;
  RandomStream s(11);
  for (Split* split : {&d.train, &d.test}) {
    split->n = split == &d.train ? n_train : n_test;
    split->features = 8;
    split->height = 8;
    split->width = 1;
    for (std::int64_t i = 0; i < split->n; ++i) {
      const std::int64_t label = i % 3;
      for (int k = 0; k < 8; ++k)
        split->x.push_back(float((k % 3 == label ? 1.5 : 0.0) + 0.7 * s.normal()));
      split->y.push_back(label);
      split->source_index.push_back(i);
    }
  }
  return d;
}

RunPoint point(const std::vector<std::string>& overrides) {
  std::vector<std::string> all = {"model.widths=[16, 16]", "train.steps=120", "train.batch_size=20",
                                  "checkpoints.per_decade=4", "train.log_every_seconds=1000",
                                  "metrics.ntk.probe_size=12", "metrics.geometry.points_per_class=10",
                                  "metrics.geometry.n_t=20"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  return expand_grid(Config::from_text("", "test", all)).front();
}

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("grokscope_train_" + name + "_" + std::to_string(::getpid()) + ".pt");
}

void expect_same_records(const RunOutcome& a, const RunOutcome& b) {
  ASSERT_EQ(a.records.size(), b.records.size());
  for (std::size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(a.records[i].step, b.records[i].step);
    // Bit-exact, not approximately equal.
    EXPECT_EQ(a.records[i].train_loss, b.records[i].train_loss) << "checkpoint " << i;
    EXPECT_EQ(a.records[i].test_loss, b.records[i].test_loss) << "checkpoint " << i;
    EXPECT_EQ(a.records[i].test_accuracy, b.records[i].test_accuracy) << "checkpoint " << i;
    EXPECT_EQ(a.records[i].weight_norm, b.records[i].weight_norm) << "checkpoint " << i;
    EXPECT_EQ(a.records[i].layer_norms, b.records[i].layer_norms) << "checkpoint " << i;
    ASSERT_EQ(a.records[i].metrics.size(), b.records[i].metrics.size());
    for (std::size_t m = 0; m < a.records[i].metrics.size(); ++m) {
      EXPECT_EQ(a.records[i].metrics[m].first, b.records[i].metrics[m].first);
      const double x = a.records[i].metrics[m].second, y = b.records[i].metrics[m].second;
      EXPECT_TRUE(x == y || (std::isnan(x) && std::isnan(y))) << a.records[i].metrics[m].first << " at checkpoint " << i;
    }
  }
}
}  // namespace

TEST(Train, LearnsAndRecordsEveryCheckpoint) {
  apply_thread_policy(1);
  const Datasets data = blobs(120, 60);
  const RunOutcome out = train_run(point({"train.lr=0.01"}), data, {});
  EXPECT_EQ(out.status, "done");
  // per_decade 4 up to 120 steps: 0 1 2 3 6 10 18 32 56 100 120
  ASSERT_EQ(out.records.size(), 11u);
  EXPECT_EQ(out.records.front().step, 0);
  EXPECT_EQ(out.records.back().step, 120);
  EXPECT_LT(out.records.back().train_loss, out.records.front().train_loss);
  EXPECT_GT(out.records.back().test_accuracy, 0.8);
  EXPECT_EQ(out.records.back().layer_norms.size(), 3u);
  // NTK metrics on both probe sets: the kernel starts at distance 0 from itself and moves.
  const auto& first = out.records.front().metrics;
  const auto& last = out.records.back().metrics;
  // 7 NTK metrics per probe set, then the geometry of each layer (default: both hidden activations
  // and the logits), all finite at the end.
  ASSERT_GT(first.size(), 14u);
  EXPECT_EQ(first[0].first, "ntk/train/distance_init");
  EXPECT_EQ(first[14].first.rfind("geometry/", 0), 0u) << first[14].first;
  int capacities = 0;
  for (const auto& [name, value] : last) {
    if (name.rfind("geometry/", 0) != 0 || name.find("/mftma/capacity") == std::string::npos) continue;
    ++capacities;
    EXPECT_TRUE(std::isfinite(value) && value > 0) << name << " = " << value;
  }
  EXPECT_EQ(capacities, 3);
  EXPECT_EQ(first[0].second, 0.0);
  EXPECT_TRUE(std::isnan(first[1].second));  // no previous checkpoint
  EXPECT_GT(last[0].second, 0.0);
  EXPECT_LE(last[0].second, 1.0);
  EXPECT_GT(last[3].second, 0.0);  // relative change
}

TEST(Train, ProbeSetLargerThanTheSplitNamesTheKey) {
  const Datasets data = blobs(60, 30);
  try {
    train_run(point({"metrics.ntk.probe_size=40"}), data, {});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "metrics.ntk.probe_size");
  }
}

TEST(Train, SameSeedSameNumbersOtherSeedOtherNumbers) {
  const Datasets data = blobs(60, 30);
  for (const char* batching : {"train.batching=shuffle", "train.batching=iid"}) {
    const RunOutcome a = train_run(point({batching}), data, {});
    const RunOutcome b = train_run(point({batching}), data, {});
    expect_same_records(a, b);
    const RunOutcome c = train_run(point({batching, "seeds=[1]"}), data, {});
    EXPECT_NE(a.records.back().train_loss, c.records.back().train_loss);
  }
}

TEST(Train, InterruptedThenResumedIsBitExact) {
  const Datasets data = blobs(60, 30);
  // SGD also runs without the NTK tracker: the state then carries no parameter snapshots.
  for (const char* optimizer : {"train.optimizer=adamw", "train.optimizer=sgd"}) {
    const bool with_ntk = std::string(optimizer) == "train.optimizer=adamw";
    const RunPoint run = point({optimizer, "train.momentum=0.9", "train.dtype=float64",
                                with_ntk ? "metrics.ntk.enabled=true" : "metrics.ntk.enabled=false"});
    const RunOutcome full = train_run(run, data, {});
    const fs::path state = temp_file("resume");
    TrainOptions first;
    first.state_path = state.string();
    first.stop_after_checkpoints = 6;  // "killed" after step 6
    const RunOutcome part = train_run(run, data, first);
    EXPECT_EQ(part.status, "interrupted");
    ASSERT_EQ(part.records.size(), 6u);
    TrainOptions second;
    second.state_path = state.string();
    second.resume = true;
    const RunOutcome resumed = train_run(run, data, second);
    EXPECT_EQ(resumed.status, "done");
    expect_same_records(full, resumed);
    fs::remove(state);
  }
}

// The file's timing/ must cover the whole run like wall_seconds, not only the last process: the
// phase totals travel in the state. A second process that does one more checkpoint must report at
// least what the first one had measured when it saved (it would report about a sixth of it if the
// totals restarted from zero).
TEST(Train, PhaseTimingsAddUpOverResumes) {
  const Datasets data = blobs(60, 30);
  const RunPoint run = point({"metrics.ntk.enabled=true"});
  const fs::path state = temp_file("timings");
  TrainOptions first;
  first.state_path = state.string();
  first.stop_after_checkpoints = 6;
  const RunOutcome part = train_run(run, data, first);
  ASSERT_EQ(part.status, "interrupted");
  TrainOptions second = first;
  second.resume = true;
  second.stop_after_checkpoints = 1;
  const RunOutcome more = train_run(run, data, second);
  ASSERT_EQ(more.records.size(), 7u);
  ASSERT_EQ(part.timings.size(), more.timings.size());
  for (std::size_t i = 0; i < part.timings.size(); ++i) {
    const auto& [name, seconds] = part.timings[i];
    if (name == "evaluate" || name == "ntk" || name == "results")  // all done before the state is saved
      EXPECT_GE(more.timings[i].second, seconds) << name;
  }
  fs::remove(state);
}

TEST(Train, ResumeRefusesAnotherConfigAndACorruptState) {
  const Datasets data = blobs(60, 30);
  const fs::path state = temp_file("refuse");
  TrainOptions opts;
  opts.state_path = state.string();
  opts.stop_after_checkpoints = 3;
  train_run(point({}), data, opts);
  const auto size = fs::file_size(state);
  opts.resume = true;
  try {
    train_run(point({"train.lr=0.5"}), data, opts);
    ADD_FAILURE() << "resumed from another config's state";
  } catch (const ConfigError& e) {  // names the file and what to do about it
    EXPECT_NE(std::string(e.what()).find(state.string() + ": the checkpoint belongs to another configuration"),
              std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("delete it to start this run from step 0"), std::string::npos);
  }
  EXPECT_EQ(fs::file_size(state), size);  // nothing overwritten
  fs::resize_file(state, size / 2);
  EXPECT_THROW(train_run(point({}), data, opts), InputError);
  fs::remove(state);
}

TEST(Train, DivergenceIsAStatusNotACrash) {
  const Datasets data = blobs(60, 30);
  const RunOutcome out = train_run(point({"train.optimizer=sgd", "train.lr=1e4", "model.init_scale=10"}), data, {});
  EXPECT_EQ(out.status, "diverged") << out.error;
  EXPECT_NE(out.error.find("loss became"), std::string::npos);
}

TEST(Train, BatchLargerThanTheTrainingSetNamesTheKey) {
  const Datasets data = blobs(10, 10);
  try {
    train_run(point({}), data, {});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "train.batch_size");
  }
}

TEST(Train, CnnTrainsThroughTheSameLoop) {
  Datasets data = blobs(60, 30);
  // Reinterpret the 8 features as a 4x2 image.
  for (Split* split : {&data.train, &data.test}) split->height = 4, split->width = 2;
  const RunOutcome out = train_run(point({"model.arch=cnn", "model.channels=[4]", "train.lr=0.01"}), data, {});
  EXPECT_EQ(out.status, "done");
  EXPECT_EQ(out.layer_norm_names, (std::vector<std::string>{"conv1", "logits"}));
  EXPECT_LT(out.records.back().train_loss, out.records.front().train_loss);
}

// The trainer's fused MLP step (the default on the CPU) gives the same run on 1 and 2 threads, bit
// for bit, and the same run as LibTorch autograd up to rounding (float64).
TEST(Train, FusedStepSameOnAnyThreadCountAndAgreesWithAutograd) {
  const Datasets data = blobs(60, 30);
  const RunPoint run = point({"train.dtype=float64", "metrics.ntk.enabled=false", "metrics.geometry.enabled=false"});
  TrainOptions one, two;
  two.threads = 2;
  const RunOutcome a = train_run(run, data, one), b = train_run(run, data, two);
  expect_same_records(a, b);
  const RunOutcome autograd = train_run(point({"train.dtype=float64", "metrics.ntk.enabled=false",
                                               "metrics.geometry.enabled=false", "train.fused_step=false"}),
                                        data, one);
  ASSERT_EQ(a.records.size(), autograd.records.size());
  for (std::size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_NEAR(a.records[i].train_loss, autograd.records[i].train_loss, 1e-9 * autograd.records[i].train_loss)
        << "checkpoint " << i;
    EXPECT_NEAR(a.records[i].weight_norm, autograd.records[i].weight_norm, 1e-9 * autograd.records[i].weight_norm);
    EXPECT_EQ(a.records[i].test_accuracy, autograd.records[i].test_accuracy) << "checkpoint " << i;
  }
  EXPECT_GT(a.records.back().train_accuracy, 0.9);  // it learned
}
