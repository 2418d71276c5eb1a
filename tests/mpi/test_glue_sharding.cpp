#include <gtest/gtest.h>

#include "unit/geometry_clouds.hpp"
#include "unit/glue_identical.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/geometry/glue.hpp"

using namespace grokscope;

// Samples split over the ranks (and over each rank's threads) vs all on this rank's one thread:
// identical numbers (keyed random streams, blocks of samples fixed by index whatever the ranks,
// and every anchor lands in one fixed slot of the reduced array).
TEST(MPI, GlueIsIdenticalWhateverTheRanks) {
  MpiCommunicator world(MPI_COMM_WORLD);
  auto manifolds = test_data::gaussian_clouds(6, 17, 30, 0.4, 8);
  for (int p = 0; p < 6; ++p) manifolds[p] = manifolds[p].leftCols(12 + p).eval();  // unequal sizes
  GlueOptions o;
  o.n_t = 37;  // several blocks of samples, the last one partial
  const GlueResult alone = glue(manifolds, o);
  const GlueResult sharded = glue(manifolds, o, &world);
  test_data::expect_identical(alone, sharded, "ranks");
  o.threads = 2;
  test_data::expect_identical(alone, glue(manifolds, o, &world), "ranks x 2 threads");
}
