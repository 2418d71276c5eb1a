#include <gtest/gtest.h>

#include "grokscope/core/random.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/geometry/mftma.hpp"

using namespace grokscope;

// Samples, manifold reductions and center-subspace restarts split over the ranks vs all on this
// rank: identical numbers (keyed random streams, every anchor in one fixed slot of the reduced
// array, the winning restart's V broadcast by its owner). An odd restart count deals unevenly.
TEST(MPI, MftmaIsIdenticalWhateverTheRanks) {
  MpiCommunicator world(MPI_COMM_WORLD);
  RandomStream rng(8);
  std::vector<Eigen::MatrixXd> manifolds;
  for (int p = 0; p < 5; ++p) {
    Eigen::MatrixXd m(30, 12);
    for (long i = 0; i < m.rows(); ++i) {
      const double center = rng.normal();
      for (long j = 0; j < m.cols(); ++j) m(i, j) = center + 0.2 * rng.normal();
    }
    manifolds.push_back(m);
  }
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
