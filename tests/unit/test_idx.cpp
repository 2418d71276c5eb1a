#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "grokscope/core/error.hpp"
#include "grokscope/data/dataset.hpp"
#include "grokscope/data/idx.hpp"

using namespace grokscope;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("grokscope_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}
std::string input_error(const std::string& path) {
  try {
    read_idx(path);
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), path);
    return e.what();
  }
  ADD_FAILURE() << "no InputError for " << path;
  return {};
}
void write_bytes(const fs::path& path, const std::vector<unsigned char>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}
}  // namespace

TEST(Idx, RoundTripRawAndGzip) {
  const fs::path dir = temp_dir("idx");
  std::vector<std::uint8_t> pixels(3 * 4 * 5);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 7);
  for (const char* name : {"a-idx3-ubyte", "a-idx3-ubyte.gz"}) {
    write_idx((dir / name).string(), {3, 4, 5}, pixels);
    const IdxArray a = read_idx((dir / name).string());
    EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{3, 4, 5}));
    EXPECT_EQ(a.data, pixels);
    EXPECT_EQ(a.item_size(), 20u);
    EXPECT_EQ(read_idx((dir / name).string(), 2).data.size(), 40u);
  }
  fs::remove_all(dir);
}

TEST(Idx, RejectsBadFilesNamingThem) {
  const fs::path dir = temp_dir("idxbad");
  EXPECT_NE(input_error((dir / "missing").string()).find("cannot open"), std::string::npos);
  write_bytes(dir / "magic", {1, 2, 8, 1, 0, 0, 0, 1, 5});
  EXPECT_NE(input_error((dir / "magic").string()).find("bad magic"), std::string::npos);
  write_bytes(dir / "type", {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
  EXPECT_NE(input_error((dir / "type").string()).find("element type"), std::string::npos);
  write_bytes(dir / "dims", {0, 0, 8, 9});
  EXPECT_NE(input_error((dir / "dims").string()).find("dimension count"), std::string::npos);
  write_bytes(dir / "short", {0, 0, 8});
  EXPECT_NE(input_error((dir / "short").string()).find("too short"), std::string::npos);
  write_bytes(dir / "header", {0, 0, 8, 3, 0, 0, 0, 2});
  EXPECT_NE(input_error((dir / "header").string()).find("truncated IDX header"), std::string::npos);
  // Header says 4 items of 2x2, the file holds 3.
  std::vector<unsigned char> truncated = {0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 2};
  truncated.resize(truncated.size() + 12, 1);
  write_bytes(dir / "truncated", truncated);
  EXPECT_NE(input_error((dir / "truncated").string()).find("truncated"), std::string::npos);
  // Header says 1 item of 2, the file holds 3 bytes.
  write_bytes(dir / "long", {0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 2, 1, 2, 3});
  EXPECT_NE(input_error((dir / "long").string()).find("longer than its header"), std::string::npos);
  // A gzip file cut in the middle of its stream.
  std::vector<std::uint8_t> pixels(5000, 42);
  write_idx((dir / "cut.gz").string(), {50, 10, 10}, pixels);
  fs::resize_file(dir / "cut.gz", fs::file_size(dir / "cut.gz") / 2);
  input_error((dir / "cut.gz").string());
  fs::remove_all(dir);
}

TEST(Idx, PackagedDatasetsReadWhenPresent) {
  int found = 0;
  for (const char* name : {"mnist", "fashion-mnist"}) {
    DataOptions o;
    o.dataset = name;
    DatasetFiles files;
    try {
      files = find_dataset_files(o);
    } catch (const InputError&) {
      continue;
    }
    ++found;
    const auto dims = read_idx_header(files.train_images);
    ASSERT_EQ(dims.size(), 3u);
    EXPECT_EQ(dims[1], 28u);
    EXPECT_EQ(dims[2], 28u);
    const IdxArray labels = read_idx(files.test_labels);
    for (auto l : labels.data) ASSERT_LT(l, 10);
  }
  if (found == 0) GTEST_SKIP() << "no packaged dataset prepared (run env/bootstrap.sh)";
}
