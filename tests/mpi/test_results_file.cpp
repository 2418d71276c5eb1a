#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "grokscope/core/error.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/io/hdf5.hpp"
#include "grokscope/io/results_file.hpp"

using namespace grokscope;

namespace {

std::string scratch(const std::string& name) {
  // One path for every rank: rank 0 picks it, the others learn it.
  char buffer[256] = {0};
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    const auto dir = std::filesystem::temp_directory_path() / ("grokscope-mpi-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::snprintf(buffer, sizeof buffer, "%s", (dir / name).c_str());
    std::filesystem::remove(dir / name);
  }
  MPI_Bcast(buffer, sizeof buffer, MPI_CHAR, 0, MPI_COMM_WORLD);
  return buffer;
}

StudyLayout two_runs() {
  StudyLayout layout;
  layout.config_yaml = "name: test\n";
  layout.fingerprint = "f00d";
  for (const char* id : {"r000000", "r000001"}) {
    RunLayout run;
    run.id = id;
    run.inputs = "/";
    run.steps = {0, 1, 10};
    run.attributes = {{"init_scale", "8"}};
    run.series = {{"metrics/test_accuracy", h5::Type::Float64, {}, "accuracy", "fraction"},
                  {"geometry/relu1/mftma/per_manifold/capacity", h5::Type::Float64, {4}, "capacity", ""},
                  {"ntk/train/kernel", h5::Type::Float32, {3, 3}, "kernel", ""}};
    layout.runs.push_back(run);
  }
  layout.inputs.push_back({"/", {{"manifolds/x", {1, 2, 3, 4, 5, 6}, {3, 2}, {}}, {"manifolds/y", {}, {}, {0, 1, 1}}}});
  return layout;
}

}  // namespace

// Created collectively; then each rank writes ITS run with independent raw writes only (no
// collective call in between, as rank groups do); read back serially afterwards.
TEST(MPI, ResultsFileIndependentWritesPerRank) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const std::string path = scratch("study.h5");
  ResultsFile file = ResultsFile::create(path, two_runs(), MPI_COMM_WORLD);
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  for (int r = rank; r < 2; r += size) {
    const std::string id = "r00000" + std::to_string(r);
    for (std::size_t c = 0; c < 2; ++c) {  // two of three checkpoints: the third stays NaN
      CheckpointValues v;
      v.scalars = {{"metrics/test_accuracy", 0.5 + 0.1 * double(c) + double(r)}};
      v.arrays = {{"geometry/relu1/mftma/per_manifold/capacity", {1.0 * double(c), 2, 3, 4}},
                  {"ntk/train/kernel", std::vector<double>(9, double(r))}};
      file.write_checkpoint(id, c, v);
      file.set_completed(id, static_cast<std::int64_t>(c + 1));
    }
    file.set_status(id, "diverged", "loss became nan at step 7", 1.5);
    file.set_instabilities(id, {3, 5});
  }
  file.close();
  MPI_Barrier(MPI_COMM_WORLD);

  if (rank == 0) {
    const ResultsFile back = ResultsFile::open(path, false);
    EXPECT_EQ(back.fingerprint(), "f00d");
    EXPECT_EQ(back.run_ids(), (std::vector<std::string>{"r000000", "r000001"}));
    for (int r = 0; r < 2; ++r) {
      const std::string id = "r00000" + std::to_string(r);
      const RunProgress p = back.progress(id);
      EXPECT_EQ(p.completed, 2);
      EXPECT_EQ(p.status, "diverged");
      EXPECT_EQ(p.error, "loss became nan at step 7");
      EXPECT_EQ(back.steps(id), (std::vector<std::int64_t>{0, 1, 10}));
      const auto acc = h5::read_doubles(back.file(), "/runs/" + id + "/metrics/test_accuracy");
      EXPECT_DOUBLE_EQ(acc[1], 0.6 + r);
      EXPECT_TRUE(std::isnan(acc[2]));  // not computed: NaN, never 0
      const auto cap = h5::read_doubles(back.file(), "/runs/" + id + "/geometry/relu1/mftma/per_manifold/capacity");
      ASSERT_EQ(cap.size(), 12u);
      EXPECT_EQ(cap[4], 1.0);
      EXPECT_TRUE(std::isnan(cap[8]));
      const auto events = h5::read_doubles(back.file(), "/runs/" + id + "/events/instability");
      EXPECT_EQ(events[0], 3);
      EXPECT_EQ(events[1], 5);
      EXPECT_TRUE(std::isnan(events[2]));
      EXPECT_EQ(h5::string_attribute(back.file(), "/runs/" + id + "/metrics/test_accuracy", "unit"), "fraction");
    }
    EXPECT_EQ(h5::read_ints(back.file(), "/manifolds/y"), (std::vector<std::int64_t>{0, 1, 1}));
    EXPECT_EQ(h5::read_floats(back.file(), "/manifolds/x")[5], 6.0f);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(MPI, ResultsFileErrorsNameTheFileAndObject) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const std::string path = scratch("not-hdf5.h5"), good = scratch("serial.h5");
  if (rank == 0) {
    std::ofstream(path) << "plain text";
    try {
      ResultsFile::open(path, false);
      FAIL() << "opened a text file";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
      EXPECT_NE(std::string(e.what()).find("not an HDF5 file"), std::string::npos);
    }
    const h5::File f = h5::File::create(good);
    try {
      h5::read_doubles(f, "/no/such/dataset");
      FAIL() << "read a missing dataset";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("/no/such/dataset"), std::string::npos);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}
