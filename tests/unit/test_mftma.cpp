#include <gtest/gtest.h>

#include "unit/geometry_clouds.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/geometry/mftma.hpp"

using namespace grokscope;
using grokscope::test_data::gaussian;
using Eigen::MatrixXd;

namespace {
// P manifolds of M points: a random center plus Gaussian noise of relative radius `radius`.
std::vector<MatrixXd> clouds(long P, long M, long N, double radius, std::uint64_t seed) {
  return test_data::gaussian_clouds(P, M, N, radius / std::sqrt(double(N)), seed);
}
}  // namespace

TEST(Mftma, CenterCostGradientMatchesFiniteDifferences) {
  RandomStream rng(3);
  const MatrixXd X = gaussian(rng, 8, 7);
  MatrixXd V = gaussian(rng, 7, 2);
  V = Eigen::HouseholderQR<MatrixXd>(V).householderQ() * MatrixXd::Identity(7, 2);
  MatrixXd grad;
  center_cost(X, V, &grad);
  const double h = 1e-6;
  for (long i = 0; i < V.rows(); ++i)
    for (long j = 0; j < V.cols(); ++j) {
      MatrixXd a = V, b = V;
      a(i, j) += h;
      b(i, j) -= h;
      const double fd = (center_cost(X, a, nullptr) - center_cost(X, b, nullptr)) / (2 * h);
      EXPECT_NEAR(grad(i, j), fd, 1e-6 * std::max(1.0, std::abs(fd))) << i << "," << j;
    }
}

// Manifolds shrunk to points: capacity → 2 (Cover's theorem), radius → 0.
TEST(Mftma, PointManifoldsHaveCapacityTwo) {
  MftmaOptions o;
  o.n_t = 1000;
  const MftmaResult r = mftma(clouds(10, 20, 60, 1e-7, 1), o);
  EXPECT_NEAR(r.capacity, 2.0, 0.15);
  EXPECT_LT(r.radius, 1e-4);
  ASSERT_EQ(r.capacity_per_manifold.size(), 10u);
  EXPECT_GE(r.K, 1);
}

// Larger manifolds have lower capacity, higher radius; the numbers are deterministic for a seed.
TEST(Mftma, MonotoneInRadiusAndDeterministic) {
  MftmaOptions o;
  o.n_t = 100;
  const MftmaResult small = mftma(clouds(6, 30, 40, 0.3, 2), o);
  const MftmaResult large = mftma(clouds(6, 30, 40, 1.5, 2), o);
  EXPECT_GT(small.capacity, large.capacity);
  EXPECT_LT(small.radius, large.radius);
  const MftmaResult again = mftma(clouds(6, 30, 40, 1.5, 2), o);
  EXPECT_EQ(large.capacity, again.capacity);
  EXPECT_EQ(large.radius_per_manifold, again.radius_per_manifold);
  EXPECT_GE(large.center_correlation, 0.0);
  EXPECT_LE(large.center_correlation, 1.0);
  // The residual may exceed ρ_c: like the reference, at least one direction is always removed.
  EXPECT_GE(large.residual_correlation, 0.0);
  EXPECT_LE(large.residual_correlation, 1.0);
}

TEST(Mftma, BadInputIsAClearError) {
  MftmaOptions o;
  EXPECT_THROW(mftma(clouds(1, 10, 5, 0.5, 1), o), UsageError);  // one manifold
  auto bad = clouds(3, 10, 5, 0.5, 1);
  bad[1] = bad[1].leftCols(1);
  EXPECT_THROW(mftma(bad, o), UsageError);  // a manifold of one point
  bad = clouds(3, 10, 5, 0.5, 1);
  bad[2](0, 0) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(mftma(bad, o), UsageError);
  bad = clouds(3, 10, 5, 0.5, 1);
  bad[0] = bad[0].topRows(4);
  EXPECT_THROW(mftma(bad, o), UsageError);  // mismatched N
  o.kappa = 0.1;
  EXPECT_THROW(mftma(clouds(3, 10, 5, 0.5, 1), o), UsageError);
}
