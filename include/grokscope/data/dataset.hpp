#pragma once
// Datasets: the IDX files of mnist, fashion-mnist, emnist and kmnist turned into float features
// and integer labels, with deterministic subsets and optional normalization. Torch-free on purpose
// (cheap to compile, testable alone); the model layer wraps these buffers as tensors.
#include <cstdint>
#include <string>
#include <vector>

namespace grokscope {

class Config;

struct DataOptions {
  std::string dataset = "mnist";  // mnist | fashion-mnist | emnist | kmnist
  std::string dir;                // empty: default_data_dir()
  std::string emnist_split = "balanced";
  std::int64_t train_size = 0;    // 0 = the whole split
  std::int64_t test_size = 0;
  std::string subset = "first";   // first | seeded
  std::string normalize = "none"; // none | standard
  double mean = 0.1307;
  double std = 0.3081;
  std::uint64_t seed = 0;         // data seed

  static DataOptions from_config(const Config& config);
};

struct Split {
  std::vector<float> x;          // n × features, row-major
  std::vector<std::int64_t> y;   // n labels
  std::int64_t n = 0;
  std::int64_t features = 0;
  std::int64_t height = 0, width = 0;  // image shape (features = height × width)
  std::vector<std::int64_t> source_index;  // index of each row in the original file
};

struct Datasets {
  std::string name;
  std::int64_t classes = 0;
  Split train, test;
};

struct DatasetFiles {
  std::string train_images, train_labels, test_images, test_labels;
};

// $GROKSCOPE_DATA_DIR if set, else the data/ folder that env/prepare_data.sh fills.
std::string default_data_dir();
// Locates the four IDX files (".gz" or raw); InputError naming the folder if they are missing.
DatasetFiles find_dataset_files(const DataOptions& options);
// Loads, validates, takes subsets and normalizes. A train/test size larger than the file is a
// ConfigError naming data.train_size / data.test_size.
Datasets load_datasets(const DataOptions& options);
// Checks sizes against the files' headers only (fast; used by `grokscope validate`).
void check_dataset_sizes(const DataOptions& options);

// A class-balanced sample of `count` row indices of `labels` (count/classes per class, the
// remainder to the lowest classes), drawn from the keyed stream (seed, tag). Returned sorted by
// class, then by draw order. ConfigError naming `key` when some class has too few rows.
std::vector<std::int64_t> class_balanced_sample(const std::vector<std::int64_t>& labels,
                                                std::int64_t classes, std::int64_t count,
                                                std::uint64_t seed, std::uint64_t tag,
                                                const std::string& key);
// Rows of `split` selected by `rows`, as a new split.
Split select_rows(const Split& split, const std::vector<std::int64_t>& rows);

}  // namespace grokscope
