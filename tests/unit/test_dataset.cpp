#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "grokscope/core/error.hpp"
#include "grokscope/data/dataset.hpp"
#include "grokscope/data/idx.hpp"

using namespace grokscope;
namespace fs = std::filesystem;

namespace {
// A fake 3-class dataset of 4x3 images: pixel value encodes (image, row, col) so tests can check
// layout; label = image % 3.
struct FakeData {
  fs::path dir;
  FakeData(const std::string& dataset, const std::string& prefix_train, const std::string& prefix_test,
           std::uint32_t n_train = 30, std::uint32_t n_test = 12, std::uint32_t label_count = 0) {
    dir = fs::temp_directory_path() / ("grokscope_data_" + dataset + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / dataset);
    write(prefix_train, n_train, label_count ? label_count : n_train, dataset);
    write(prefix_test, n_test, n_test, dataset);
  }
  ~FakeData() { fs::remove_all(dir); }
  void write(const std::string& prefix, std::uint32_t n, std::uint32_t labels, const std::string& dataset) {
    std::vector<std::uint8_t> px(n * 12), lb(labels);
    for (std::uint32_t i = 0; i < n; ++i)
      for (int k = 0; k < 12; ++k) px[i * 12 + k] = static_cast<std::uint8_t>((i * 12 + k) % 251);
    for (std::uint32_t i = 0; i < labels; ++i) lb[i] = static_cast<std::uint8_t>(i % 3);
    write_idx((dir / dataset / (prefix + "-images-idx3-ubyte.gz")).string(), {n, 4, 3}, px);
    write_idx((dir / dataset / (prefix + "-labels-idx1-ubyte")).string(), {labels}, lb);
  }
};
}  // namespace

TEST(Dataset, FirstSubsetScalingAndLabels) {
  FakeData fake("mnist", "train", "t10k");
  DataOptions o;
  o.dir = fake.dir.string();
  o.train_size = 10;
  const Datasets d = load_datasets(o);
  EXPECT_EQ(d.classes, 3);
  EXPECT_EQ(d.train.n, 10);
  EXPECT_EQ(d.test.n, 12);  // 0 = whole split
  EXPECT_EQ(d.train.features, 12);
  EXPECT_FLOAT_EQ(d.train.x[5 * 12 + 7], float((5 * 12 + 7) % 251) / 255.0f);
  EXPECT_EQ(d.train.y[5], 2);
  EXPECT_EQ(d.train.source_index[9], 9);
}

TEST(Dataset, SeededSubsetIsDeterministicAndDependsOnTheDataSeed) {
  FakeData fake("mnist", "train", "t10k");
  DataOptions o;
  o.dir = fake.dir.string();
  o.train_size = 10;
  o.subset = "seeded";
  o.seed = 1;
  const Datasets a = load_datasets(o), b = load_datasets(o);
  EXPECT_EQ(a.train.source_index, b.train.source_index);
  o.seed = 2;
  const Datasets c = load_datasets(o);
  EXPECT_NE(a.train.source_index, c.train.source_index);
  std::set<std::int64_t> unique(a.train.source_index.begin(), a.train.source_index.end());
  EXPECT_EQ(unique.size(), 10u);
}

TEST(Dataset, StandardNormalization) {
  FakeData fake("mnist", "train", "t10k");
  DataOptions o;
  o.dir = fake.dir.string();
  o.normalize = "standard";
  o.mean = 0.5;
  o.std = 0.25;
  const Datasets d = load_datasets(o);
  EXPECT_NEAR(d.train.x[13], ((13 % 251) / 255.0 - 0.5) / 0.25, 1e-5);
}

TEST(Dataset, EmnistImagesAreTransposed) {
  FakeData fake("emnist", "emnist-balanced-train", "emnist-balanced-test");
  DataOptions o;
  o.dataset = "emnist";
  o.dir = fake.dir.string();
  const Datasets d = load_datasets(o);
  // Stored transposed: image 0's stored byte at (c * height + r) lands at (r, c).
  const int r = 1, c = 2, height = 4, width = 3;
  EXPECT_FLOAT_EQ(d.train.x[r * width + c], float(c * height + r) / 255.0f);
}

TEST(Dataset, SizeBeyondTheFileNamesTheKey) {
  FakeData fake("mnist", "train", "t10k");
  DataOptions o;
  o.dir = fake.dir.string();
  o.train_size = 31;
  try {
    load_datasets(o);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "data.train_size");
  }
  EXPECT_THROW(check_dataset_sizes(o), ConfigError);
}

TEST(Dataset, MismatchedLabelsAndMissingFilesAreInputErrors) {
  FakeData fake("mnist", "train", "t10k", 30, 12, /*label_count=*/29);
  DataOptions o;
  o.dir = fake.dir.string();
  EXPECT_THROW(load_datasets(o), InputError);
  o.dataset = "kmnist";
  EXPECT_THROW(load_datasets(o), InputError);
}

TEST(Sampling, ClassBalancedDeterministicAndSeedIndependentOfStreams) {
  std::vector<std::int64_t> labels(300);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 3);
  const auto a = class_balanced_sample(labels, 3, 31, 5, 1, "metrics.ntk.probe_size");
  const auto b = class_balanced_sample(labels, 3, 31, 5, 1, "metrics.ntk.probe_size");
  const auto other_tag = class_balanced_sample(labels, 3, 31, 5, 2, "metrics.ntk.probe_size");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other_tag);
  ASSERT_EQ(a.size(), 31u);
  int per_class[3] = {0, 0, 0};
  for (auto i : a) ++per_class[labels[i]];
  EXPECT_EQ(per_class[0], 11);
  EXPECT_EQ(per_class[1], 10);
  EXPECT_EQ(per_class[2], 10);
  std::set<std::int64_t> unique(a.begin(), a.end());
  EXPECT_EQ(unique.size(), a.size());
  try {
    class_balanced_sample(labels, 3, 400, 5, 1, "metrics.geometry.points_per_class");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "metrics.geometry.points_per_class");
  }
}
