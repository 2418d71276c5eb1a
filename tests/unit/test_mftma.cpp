#include <gtest/gtest.h>

#include <cmath>

#include "unit/geometry_clouds.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/geometry/mftma.hpp"

using namespace grokscope;
using grokscope::test_data::gaussian;
using Eigen::MatrixXd;

// P manifolds of M points, each at distance `distance` from its random center (norm ≈ √N).
constexpr auto clouds = test_data::clouds_at_distance;

namespace {
// The mean-field capacity of L2 balls of radius R in D dimensions at κ = 0 (Chung, Lee &
// Sompolinsky 2018), an independent oracle for the sampled computation: with t0 ~ N(0,1) along
// the center and |t| ~ χ_D in the ball's subspace, a sample contributes (R|t| − t0)²/(1 + R²)
// when the ball touches the plane (−|t|/R < t0 < R|t|) and t0² + |t|² when it is embedded
// (t0 < −|t|/R). The t0 integrals are closed forms in Φ and φ; the χ_D one is Simpson's rule.
double ball_capacity(double R, int D) {
  const auto phi = [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); };
  const auto Phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  const auto field = [&](double t) {
    const double a = -t / R, b = R * t, c = R * t;  // touching: ∫_a^b (c − t0)² φ dt0 / (1 + R²)
    const double touching = ((c * c + 1) * (Phi(b) - Phi(a)) + 2 * c * (phi(b) - phi(a)) -
                             (b * phi(b) - a * phi(a))) / (1 + R * R);
    const double embedded = (1 + t * t) * Phi(a) - a * phi(a);  // ∫_{-∞}^a (t0² + t²) φ dt0
    return touching + embedded;
  };
  const auto chi = [&](double t) {
    return t <= 0 ? (D == 1 ? std::sqrt(2 / M_PI) : 0.0)
                  : std::exp((D - 1) * std::log(t) - 0.5 * t * t - (0.5 * D - 1) * std::log(2.0) - std::lgamma(0.5 * D));
  };
  const int n = 20000;
  const double top = std::sqrt(double(D)) + 12, h = top / n;
  double inverse = 0;
  for (int i = 0; i <= n; ++i) {
    const double w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
    inverse += w * chi(i * h) * field(i * h);
  }
  return 1 / (inverse * h / 3);
}

// P manifolds of M points drawn uniformly on D-dimensional spheres of radius R around orthonormal
// centers e_μ, each sphere in its own D coordinates (N = P + P·D).
std::vector<MatrixXd> spheres(long P, int D, double R, long M, std::uint64_t seed) {
  RandomStream rng(seed);
  std::vector<MatrixXd> out;
  for (long p = 0; p < P; ++p) {
    MatrixXd m = MatrixXd::Zero(P + P * D, M);
    for (long j = 0; j < M; ++j) {
      Eigen::VectorXd u = gaussian(rng, D, 1);
      m(p, j) = 1;
      m.block(P + p * D, j, D, 1) = R * u.normalized();
    }
    out.push_back(m);
  }
  return out;
}
}  // namespace

// The oracle itself: α = 2/(D + 1) at R = 1 (exact), and (1 + R⁻²)/D in large D.
TEST(Mftma, BallCapacityOracleHasItsKnownLimits) {
  for (int D : {1, 2, 3, 10, 50}) EXPECT_NEAR(ball_capacity(1.0, D), 2.0 / (D + 1), 1e-6) << "D = " << D;
  for (double R : {0.5, 1.0, 2.0}) {
    const double limit = (1 + 1 / (R * R)) / 200;
    EXPECT_NEAR(ball_capacity(R, 200) / limit, 1.0, 0.02) << "R = " << R;
    EXPECT_GT(std::abs(ball_capacity(R, 3) / ((1 + 1 / (R * R)) / 3) - 1), 0.1);  // the limit needs large D
  }
}

// Densely sampled spheres (their convex hull ≈ the ball) against the ball formula. P = 2: no
// center subspace to remove, and global centering halves the center distance, so each sphere has
// radius R√2 relative to its centered center. Tolerance 5%: four standard deviations of the
// estimate at n_t = 8000 (measured spread over seeds ±2.4% at n_t = 2000).
TEST(Mftma, DenselySampledSpheresHaveTheBallCapacity) {
  struct Case { int D; double R; long M; };
  for (const Case c : {Case{2, 1.0, 1000}, Case{2, 2.0, 1000}, Case{3, 0.7, 3000}}) {
    MftmaOptions o;
    o.n_t = 8000;
    const MftmaResult r = mftma(spheres(2, c.D, c.R, c.M, 5), o);
    EXPECT_EQ(r.K, 0);
    const double expected = ball_capacity(c.R * std::sqrt(2.0), c.D);
    EXPECT_NEAR(r.capacity / expected, 1.0, 0.05) << "D = " << c.D << ", R = " << c.R << ": " << r.capacity
                                                 << " vs the ball's " << expected;
  }
}

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
