#include <gtest/gtest.h>

#include "grokscope/core/random.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/geometry/glue.hpp"

using namespace grokscope;

// Samples split over the ranks vs all on this rank: identical numbers (keyed random streams, blocks
// of samples fixed by index whatever the ranks, and every anchor lands in one fixed slot of the
// reduced array).
TEST(MPI, GlueIsIdenticalWhateverTheRanks) {
  MpiCommunicator world(MPI_COMM_WORLD);
  RandomStream rng(8);
  std::vector<Eigen::MatrixXd> manifolds;
  for (int p = 0; p < 6; ++p) {
    Eigen::MatrixXd m(30, 12 + p);
    for (long i = 0; i < m.rows(); ++i) {
      const double center = rng.normal();
      for (long j = 0; j < m.cols(); ++j) m(i, j) = center + 0.4 * rng.normal();
    }
    manifolds.push_back(m);
  }
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
