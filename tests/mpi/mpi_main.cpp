// main() for MPI tests: every rank runs every test; the exit code is the worst over all ranks, so a
// failure on any rank fails the ctest entry. Only rank 0 keeps the default printer.
#include <gtest/gtest.h>

#include "grokscope/dist/mpi.hpp"

int main(int argc, char** argv) {
  grokscope::MpiEnvironment mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (mpi.world_rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (any && mpi.world_rank() == 0 && !failed) std::fprintf(stderr, "a test failed on another rank\n");
  return any;
}
