#include "grokscope/data/dataset.hpp"

#include <algorithm>
#include <cstdlib>
#include <sys/stat.h>

#include "grokscope/core/config.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/data/idx.hpp"

#ifndef GROKSCOPE_DEFAULT_DATA_DIR
#define GROKSCOPE_DEFAULT_DATA_DIR "data"
#endif

namespace grokscope {
namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// First existing of `stem.gz`, `stem` in the candidate folders.
std::string locate(const std::vector<std::string>& folders, const std::string& stem,
                   std::string& tried) {
  for (const auto& folder : folders)
    for (const char* suffix : {".gz", ""}) {
      const std::string path = folder + "/" + stem + suffix;
      if (exists(path)) return path;
      tried += "\n  " + path;
    }
  return {};
}

Split make_split(const IdxArray& images, const IdxArray& labels, bool transposed,
                 const std::vector<std::int64_t>& rows) {
  Split split;
  split.height = images.dims[1];
  split.width = images.dims.size() > 2 ? images.dims[2] : 1;
  split.features = split.height * split.width;
  split.n = static_cast<std::int64_t>(rows.size());
  split.x.resize(static_cast<std::size_t>(split.n * split.features));
  split.y.resize(rows.size());
  split.source_index = rows;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::uint8_t* src = images.data.data() + rows[i] * split.features;
    float* dst = split.x.data() + i * split.features;
    for (std::int64_t r = 0; r < split.height; ++r)
      for (std::int64_t c = 0; c < split.width; ++c) {
        // EMNIST stores each image transposed relative to MNIST.
        const std::int64_t from = transposed ? c * split.height + r : r * split.width + c;
        dst[r * split.width + c] = static_cast<float>(src[from]) / 255.0f;
      }
    split.y[i] = labels.data[rows[i]];
  }
  return split;
}

std::vector<std::int64_t> subset_rows(std::int64_t available, std::int64_t wanted,
                                      const std::string& mode, std::uint64_t seed,
                                      std::uint64_t tag) {
  const std::int64_t n = wanted == 0 ? available : wanted;
  std::vector<std::int64_t> rows(static_cast<std::size_t>(available));
  for (std::int64_t i = 0; i < available; ++i) rows[i] = i;
  if (mode == "seeded") {
    RandomStream stream(seed, {tag});
    stream.shuffle(rows);
    rows.resize(static_cast<std::size_t>(n));
    std::sort(rows.begin(), rows.end());
  } else {
    rows.resize(static_cast<std::size_t>(n));
  }
  return rows;
}

void check_pair(const IdxArray& images, const IdxArray& labels, const std::string& image_path,
                const std::string& label_path) {
  if (images.dims.size() < 2 || images.dims.size() > 3)
    throw InputError(image_path, "expected an image file with 2 or 3 dimensions, found " +
                                     std::to_string(images.dims.size()));
  if (labels.dims.size() != 1)
    throw InputError(label_path, "expected a label file with 1 dimension, found " +
                                     std::to_string(labels.dims.size()));
  if (images.count() != labels.count())
    throw InputError(label_path, "holds " + std::to_string(labels.count()) + " labels but " +
                                     image_path + " holds " + std::to_string(images.count()) + " images");
}

void check_size(const char* key, std::int64_t wanted, std::size_t available, const std::string& file) {
  if (wanted > static_cast<std::int64_t>(available))
    throw ConfigError(key, "is " + std::to_string(wanted) + " but " + file + " holds only " +
                               std::to_string(available) + " images");
}

}  // namespace

DataOptions DataOptions::from_config(const Config& config) {
  DataOptions o;
  o.dataset = config.text("data.dataset");
  o.dir = config.text("data.dir");
  o.emnist_split = config.text("data.emnist_split");
  o.train_size = config.integer("data.train_size");
  o.test_size = config.integer("data.test_size");
  o.subset = config.text("data.subset");
  o.normalize = config.text("data.normalize");
  o.mean = config.number("data.mean");
  o.std = config.number("data.std");
  o.seed = static_cast<std::uint64_t>(config.integer("data.seed"));
  return o;
}

std::string default_data_dir() {
  if (const char* env = std::getenv("GROKSCOPE_DATA_DIR"); env != nullptr && env[0] != '\0') return env;
  return GROKSCOPE_DEFAULT_DATA_DIR;
}

DatasetFiles find_dataset_files(const DataOptions& options) {
  const std::string root = options.dir.empty() ? default_data_dir() : options.dir;
  const std::vector<std::string> folders = {root + "/" + options.dataset, root};
  std::string train_prefix = "train", test_prefix = "t10k";
  if (options.dataset == "emnist") {
    train_prefix = "emnist-" + options.emnist_split + "-train";
    test_prefix = "emnist-" + options.emnist_split + "-test";
  }
  std::string tried;
  DatasetFiles files{locate(folders, train_prefix + "-images-idx3-ubyte", tried),
                     locate(folders, train_prefix + "-labels-idx1-ubyte", tried),
                     locate(folders, test_prefix + "-images-idx3-ubyte", tried),
                     locate(folders, test_prefix + "-labels-idx1-ubyte", tried)};
  if (files.train_images.empty() || files.train_labels.empty() || files.test_images.empty() ||
      files.test_labels.empty()) {
    std::string hint = options.dataset == "mnist" || options.dataset == "fashion-mnist"
                           ? " (run env/bootstrap.sh to prepare the offline copy)"
                           : " (put the IDX files there or set data.dir)";
    throw InputError(root, "dataset '" + options.dataset + "' not found" + hint + "; looked for:" + tried);
  }
  return files;
}

void check_dataset_sizes(const DataOptions& options) {
  const DatasetFiles files = find_dataset_files(options);
  check_size("data.train_size", options.train_size, read_idx_header(files.train_images).at(0),
             files.train_images);
  check_size("data.test_size", options.test_size, read_idx_header(files.test_images).at(0),
             files.test_images);
}

Datasets load_datasets(const DataOptions& options) {
  const DatasetFiles files = find_dataset_files(options);
  const IdxArray train_labels = read_idx(files.train_labels);
  const IdxArray test_labels = read_idx(files.test_labels);
  const IdxArray train_images = read_idx(files.train_images);
  const IdxArray test_images = read_idx(files.test_images);
  check_pair(train_images, train_labels, files.train_images, files.train_labels);
  check_pair(test_images, test_labels, files.test_images, files.test_labels);
  if (train_images.item_size() != test_images.item_size())
    throw InputError(files.test_images, "image size differs from " + files.train_images);
  check_size("data.train_size", options.train_size, train_images.count(), files.train_images);
  check_size("data.test_size", options.test_size, test_images.count(), files.test_images);

  Datasets data;
  data.name = options.dataset;
  std::uint8_t max_label = 0;
  for (auto l : train_labels.data) max_label = std::max(max_label, l);
  for (auto l : test_labels.data) max_label = std::max(max_label, l);
  data.classes = max_label + 1;

  const bool transposed = options.dataset == "emnist";
  data.train = make_split(train_images, train_labels, transposed,
                          subset_rows(train_images.count(), options.train_size, options.subset,
                                      options.seed, stream_tag("train-subset")));
  data.test = make_split(test_images, test_labels, transposed,
                         subset_rows(test_images.count(), options.test_size, options.subset,
                                     options.seed, stream_tag("test-subset")));
  if (options.normalize == "standard") {
    const float mean = static_cast<float>(options.mean);
    const float inv_std = static_cast<float>(1.0 / options.std);
    for (Split* split : {&data.train, &data.test})
      for (float& v : split->x) v = (v - mean) * inv_std;
  }
  return data;
}

std::vector<std::int64_t> class_balanced_sample(const std::vector<std::int64_t>& labels,
                                                std::int64_t classes, std::int64_t count,
                                                std::uint64_t seed, std::uint64_t tag,
                                                const std::string& key) {
  if (classes < 1) throw UsageError("class_balanced_sample: no classes");
  std::vector<std::vector<std::int64_t>> by_class(static_cast<std::size_t>(classes));
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] >= 0 && labels[i] < classes) by_class[labels[i]].push_back(static_cast<std::int64_t>(i));
  std::vector<std::int64_t> rows;
  for (std::int64_t c = 0; c < classes; ++c) {
    const std::int64_t want = count / classes + (c < count % classes ? 1 : 0);
    auto& pool = by_class[c];
    if (static_cast<std::int64_t>(pool.size()) < want)
      throw ConfigError(key, "asks for " + std::to_string(want) + " points of class " +
                                 std::to_string(c) + " but the split has only " +
                                 std::to_string(pool.size()));
    RandomStream stream(seed, {tag, static_cast<std::uint64_t>(c)});
    stream.shuffle(pool);
    rows.insert(rows.end(), pool.begin(), pool.begin() + want);
  }
  return rows;
}

Split select_rows(const Split& split, const std::vector<std::int64_t>& rows) {
  Split out;
  out.n = static_cast<std::int64_t>(rows.size());
  out.features = split.features;
  out.height = split.height;
  out.width = split.width;
  out.x.resize(static_cast<std::size_t>(out.n * out.features));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(split.x.begin() + rows[i] * split.features, split.features,
                out.x.begin() + static_cast<std::int64_t>(i) * split.features);
    out.y.push_back(split.y[rows[i]]);
    out.source_index.push_back(split.source_index[rows[i]]);
  }
  return out;
}

}  // namespace grokscope
