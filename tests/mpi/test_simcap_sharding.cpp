#include <gtest/gtest.h>

#include "unit/geometry_clouds.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/geometry/simcap.hpp"

using namespace grokscope;

// Dichotomies dealt over the ranks vs all on this rank: identical numbers (keyed random streams,
// each dichotomy's LPs depend only on itself, and the reduced counts are integers).
TEST(MPI, SimcapIsIdenticalWhateverTheRanks) {
  MpiCommunicator world(MPI_COMM_WORLD);
  const auto manifolds = test_data::gaussian_clouds(7, 10, 24, 0.25, 9);
  SimcapOptions o;
  o.dichotomies = 21;  // not a multiple of 2: the ranks get unequal shares
  o.seed = 4;
  const SimcapResult alone = simulated_capacity(manifolds, o);
  const SimcapResult sharded = simulated_capacity(manifolds, o, &world);
  EXPECT_EQ(alone.capacity, sharded.capacity);
  EXPECT_EQ(alone.critical_dimension, sharded.critical_dimension);
  EXPECT_EQ(alone.curve, sharded.curve);
  // The crossing lies inside the range, so the curve holds more than the clamped ends.
  EXPECT_GT(alone.critical_dimension, 2.0);
  EXPECT_LT(alone.critical_dimension, 24.0);
}
