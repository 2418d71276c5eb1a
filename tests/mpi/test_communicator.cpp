#include <gtest/gtest.h>

#include <numeric>

#include "grokscope/core/error.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/dist/nccl.hpp"

using namespace grokscope;

TEST(MPI, AllreduceSumsOverTheWorld) {
  MpiCommunicator world(MPI_COMM_WORLD);
  std::vector<double> d = {1.0 + world.rank(), 0.5};
  std::vector<float> f = {2.0f * float(world.rank() + 1)};
  world.allreduce_sum(d.data(), d.size());
  world.allreduce_sum(f.data(), f.size());
  const int n = world.size();
  EXPECT_DOUBLE_EQ(d[0], n * (n + 1) / 2.0);
  EXPECT_DOUBLE_EQ(d[1], 0.5 * n);
  EXPECT_FLOAT_EQ(f[0], float(n * (n + 1)));
}

TEST(MPI, BroadcastFromRoot) {
  MpiCommunicator world(MPI_COMM_WORLD);
  std::vector<int> data(5, world.rank() == 0 ? 42 : -1);
  world.broadcast(data.data(), data.size() * sizeof(int), 0);
  for (int v : data) EXPECT_EQ(v, 42);
}

TEST(MPI, GroupsOfOneAndOfTheWorld) {
  MpiCommunicator world(MPI_COMM_WORLD);
  auto singles = MpiCommunicator::split_groups(MPI_COMM_WORLD, 1);
  EXPECT_EQ(singles->size(), 1);
  EXPECT_EQ(singles->rank(), 0);
  double x = 3.0;
  singles->allreduce_sum(&x, 1);
  EXPECT_DOUBLE_EQ(x, 3.0);  // a group of one reduces to itself
  auto all = MpiCommunicator::split_groups(MPI_COMM_WORLD, world.size());
  EXPECT_EQ(all->size(), world.size());
  EXPECT_EQ(all->rank(), world.rank());
  if (world.size() > 1) {
    EXPECT_THROW(MpiCommunicator::split_groups(MPI_COMM_WORLD, world.size() + 1), ConfigError);
  }
}

TEST(MPI, NcclBackendReportsClearlyWithoutAGpu) {
  MpiCommunicator world(MPI_COMM_WORLD);
  if (cuda_device_count() > 0) GTEST_SKIP() << "a GPU is visible: this test covers the no-GPU path only";
  try {
    make_nccl_communicator(world, 0);
    FAIL() << "no error without a GPU";
  } catch (const UnsupportedError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(nccl_compiled() ? "needs a CUDA device" : "built without the NCCL backend"),
              std::string::npos) << what;
  }
}
