#include <gtest/gtest.h>

#include "unit/geometry_clouds.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/geometry/mftma.hpp"

using namespace grokscope;

// Samples, manifold reductions and center-subspace restarts split over the ranks vs all on this
// rank: identical numbers (keyed random streams, every anchor in one fixed slot of the reduced
// array, the winning restart's V broadcast by its owner). An odd restart count deals unevenly.
TEST(MPI, MftmaIsIdenticalWhateverTheRanks) {
  MpiCommunicator world(MPI_COMM_WORLD);
  const auto manifolds = test_data::gaussian_clouds(5, 12, 30, 0.2, 8);
  for (const int restarts : {10, 3}) {
    MftmaOptions o;
    o.n_t = 37;
    o.restarts = restarts;
    const MftmaResult alone = mftma(manifolds, o);
    const MftmaResult sharded = mftma(manifolds, o, &world);
    ASSERT_GE(alone.K, 1) << "the center-subspace search must run for this test to cover it";
    EXPECT_EQ(alone.K, sharded.K);
    EXPECT_EQ(alone.residual_correlation, sharded.residual_correlation);
    EXPECT_EQ(alone.capacity, sharded.capacity);
    EXPECT_EQ(alone.capacity_per_manifold, sharded.capacity_per_manifold);
    EXPECT_EQ(alone.radius_per_manifold, sharded.radius_per_manifold);
    EXPECT_EQ(alone.dimension_per_manifold, sharded.dimension_per_manifold);
  }
}
