#include <gtest/gtest.h>

#include "unit/geometry_clouds.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/geometry/glue.hpp"

using namespace grokscope;

// Samples split over the ranks vs all on this rank: identical numbers (keyed random streams, blocks
// of samples fixed by index whatever the ranks, and every anchor lands in one fixed slot of the
// reduced array).
TEST(MPI, GlueIsIdenticalWhateverTheRanks) {
  MpiCommunicator world(MPI_COMM_WORLD);
  auto manifolds = test_data::gaussian_clouds(6, 17, 30, 0.4, 8);
  for (int p = 0; p < 6; ++p) manifolds[p] = manifolds[p].leftCols(12 + p).eval();  // unequal sizes
  GlueOptions o;
  o.n_t = 37;  // several blocks of samples, the last one partial
  const GlueResult alone = glue(manifolds, o);
  const GlueResult sharded = glue(manifolds, o, &world);
  EXPECT_EQ(alone.capacity, sharded.capacity);
  EXPECT_EQ(alone.radius, sharded.radius);
  EXPECT_EQ(alone.dimension, sharded.dimension);
  EXPECT_EQ(alone.utility, sharded.utility);
  EXPECT_EQ(alone.center_alignment, sharded.center_alignment);
  EXPECT_EQ(alone.axis_alignment, sharded.axis_alignment);
  EXPECT_EQ(alone.center_axis_alignment, sharded.center_axis_alignment);
  EXPECT_EQ(alone.identity_error, sharded.identity_error);
}
