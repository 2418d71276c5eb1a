#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "unit/geometry_clouds.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/geometry/mftma.hpp"
#include "grokscope/geometry/simcap.hpp"

using namespace grokscope;
using grokscope::test_data::gaussian;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {


// P manifolds of M points, each at distance `distance` from its random center (norm ≈ √N).
constexpr auto clouds = test_data::clouds_at_distance;

// One single-point manifold per column.
std::vector<MatrixXd> point_manifolds(const MatrixXd& points) {
  std::vector<MatrixXd> out;
  for (long i = 0; i < points.cols(); ++i) out.push_back(points.col(i));
  return out;
}

std::vector<int> labels_of(unsigned mask, int count) {
  std::vector<int> y(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) y[i] = (mask >> i) & 1u ? 1 : -1;
  return y;
}

double binomial(int n, int k) {
  double c = 1;
  for (int i = 1; i <= k; ++i) c = c * (n - k + i) / i;
  return c;
}

// Cover (1965): P points in general position in R^D admit exactly C(P, D) = 2 Σ_{k<D} (P−1 choose
// k) homogeneous linear dichotomies; with a bias in R^n, D = n + 1.
double cover_count(int P, int D) {
  double sum = 0;
  for (int k = 0; k < D; ++k) sum += binomial(P - 1, k);
  return 2 * sum;
}

// Independent oracle in the plane (general position): separable iff the line through some two
// points has all the other +1 points strictly on one side and all the other −1 points strictly on
// the other (slide and turn a separating line until it touches two points).
bool separable_in_plane(const MatrixXd& x, const std::vector<int>& y) {
  const long m = x.cols();
  if (std::all_of(y.begin(), y.end(), [&](int v) { return v == y[0]; })) return true;
  for (long i = 0; i < m; ++i)
    for (long j = i + 1; j < m; ++j) {
      bool side[2] = {true, true};  // +1 points left / +1 points right
      for (long k = 0; k < m; ++k) {
        if (k == i || k == j) continue;
        const Eigen::Vector2d a = x.col(j) - x.col(i), b = x.col(k) - x.col(i);
        const double cross = a.x() * b.y() - a.y() * b.x();
        side[0] = side[0] && cross * y[k] > 0;
        side[1] = side[1] && cross * y[k] < 0;
      }
      if (side[0] || side[1]) return true;
    }
  return false;
}

int popcount(unsigned v) {
  int c = 0;
  for (; v; v &= v - 1) ++c;
  return c;
}

}  // namespace

TEST(Separability, SeparableByConstructionAndXorIsNot) {
  RandomStream rng(1);
  for (int trial = 0; trial < 10; ++trial) {
    const long n = 2 + trial % 5;
    const VectorXd w = gaussian(rng, n, 1);
    const double b = rng.normal();
    const MatrixXd raw = gaussian(rng, n, 300, 3.0);
    std::vector<long> keep;
    for (long i = 0; i < raw.cols(); ++i)
      if (std::abs(w.dot(raw.col(i)) + b) >= 0.1 * w.norm()) keep.push_back(i);
    MatrixXd x(n, long(keep.size()));
    std::vector<int> y;
    for (std::size_t k = 0; k < keep.size(); ++k) {
      x.col(long(k)) = raw.col(keep[k]);
      y.push_back(w.dot(raw.col(keep[k])) + b > 0 ? 1 : -1);
    }
    EXPECT_TRUE(linearly_separable(x, y)) << "trial " << trial;
  }
  MatrixXd xor2(2, 4);
  xor2 << 0, 1, 0, 1,  //
      0, 1, 1, 0;
  EXPECT_FALSE(linearly_separable(xor2, {1, 1, -1, -1}));
  // Lifted by the product coordinate, XOR becomes separable.
  MatrixXd xor3(3, 4);
  xor3 << 0, 1, 0, 1,  //
      0, 1, 1, 0,      //
      0, 1, 0, 0;
  EXPECT_TRUE(linearly_separable(xor3, {1, 1, -1, -1}));
}

// On a line, points are separable iff, sorted, their labels form at most two contiguous blocks.
TEST(Separability, MatchesTheOneDimensionalOracle) {
  RandomStream rng(2);
  int separable = 0, total = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const long m = 2 + long(rng.below(8));
    MatrixXd x(1, m);
    std::vector<int> y(static_cast<std::size_t>(m));
    for (long i = 0; i < m; ++i) x(0, i) = rng.uniform(), y[i] = rng.below(2) ? 1 : -1;
    std::vector<long> order(static_cast<std::size_t>(m));
    for (long i = 0; i < m; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](long a, long b) { return x(0, a) < x(0, b); });
    int changes = 0;
    for (long k = 1; k < m; ++k) changes += y[order[k]] != y[order[k - 1]];
    const bool oracle = changes <= 1;
    EXPECT_EQ(linearly_separable(x, y), oracle) << "trial " << trial;
    separable += oracle, ++total;
  }
  // Both answers occur often enough for the comparison to mean something.
  EXPECT_GT(separable, total / 5);
  EXPECT_LT(separable, total * 4 / 5);
}

// Cover's function counting theorem, exactly: every labeling of P points in general position.
TEST(Separability, CountsCoversNumberOfDichotomies) {
  RandomStream rng(3);
  for (const auto& [P, n] :
       {std::pair{9, 1}, std::pair{10, 2}, std::pair{11, 3}, std::pair{11, 5}}) {
    const MatrixXd x = gaussian(rng, n, P);
    int count = 0;
    for (unsigned mask = 0; mask < (1u << P); ++mask)
      count += linearly_separable(x, labels_of(mask, P));
    EXPECT_EQ(count, int(cover_count(P, n + 1))) << "P = " << P << ", n = " << n;
  }
}

TEST(Separability, DuplicatePointWithOppositeLabelsAndScale) {
  RandomStream rng(4);
  MatrixXd x = gaussian(rng, 3, 6);
  x.col(5) = x.col(0);
  EXPECT_FALSE(linearly_separable(x, {1, 1, 1, -1, -1, -1}));
  EXPECT_FALSE(linearly_separable(x, {1, -1, 1, -1, 1, -1}));
  // Separability does not depend on the scale or the position of the points.
  const MatrixXd y = gaussian(rng, 4, 9);
  for (unsigned mask = 0; mask < 512; mask += 7) {
    const std::vector<int> labels = labels_of(mask, 9);
    const bool base = linearly_separable(y, labels);
    EXPECT_EQ(linearly_separable(1e6 * y, labels), base) << mask;
    EXPECT_EQ(linearly_separable((1e-6 * y).array() + 1e3, labels), base) << mask;
  }
  EXPECT_TRUE(linearly_separable(MatrixXd::Zero(2, 3), {1, 1, 1}));    // one class
  EXPECT_FALSE(linearly_separable(MatrixXd::Zero(2, 3), {1, -1, 1}));  // all points equal
}

TEST(Separability, BadInputIsAClearError) {
  const MatrixXd x = MatrixXd::Ones(2, 3);
  EXPECT_THROW(linearly_separable(x, {1, -1}), UsageError);
  EXPECT_THROW(linearly_separable(x, {1, 0, -1}), UsageError);
  EXPECT_THROW(linearly_separable(MatrixXd(2, 0), {}), UsageError);
  MatrixXd bad = x;
  bad(1, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(linearly_separable(bad, {1, -1, 1}), UsageError);
}

// Points on a plane inside R^6: every projection to n ≥ 2 dimensions maps the plane one-to-one, so
// each dichotomy's verdict is the same at every n, and p(n) must match the exact fraction of
// separable balanced dichotomies, counted by the plane oracle, within the binomial error (4σ).
// 10 points, 5 vs 5 in the plane, are rarely separable: p stays below ½ and N_c is clamped at N.
TEST(Simcap, PlanarPointsMatchTheExhaustiveBalancedFraction) {
  RandomStream rng(5);
  const int P = 10, D = 1500;
  const MatrixXd plane = gaussian(rng, 2, P), basis = gaussian(rng, 6, 2);
  int separable = 0, balanced = 0;
  for (unsigned mask = 0; mask < (1u << P); ++mask)
    if (popcount(mask) == P / 2)
      separable += separable_in_plane(plane, labels_of(mask, P)), ++balanced;
  const double q = double(separable) / balanced;
  ASSERT_GT(q, 0.02);  // the comparison below needs both answers to occur

  SimcapOptions o;
  o.dichotomies = D;
  o.seed = 11;
  const SimcapResult r = simulated_capacity(point_manifolds(basis * plane), o);
  ASSERT_FALSE(r.curve.empty());
  const double sigma = std::sqrt(q * (1 - q) / D);
  for (const auto& [n, p] : r.curve) {
    EXPECT_EQ(p, r.curve.front().second) << "n = " << n;
    EXPECT_NEAR(p, q, 4 * sigma) << "n = " << n;
  }
  EXPECT_EQ(r.curve.back().first, 6);
  EXPECT_EQ(r.critical_dimension, 6.0);
  EXPECT_DOUBLE_EQ(r.capacity, P / 6.0);
}

// Three corners of a triangle and a point inside it, 2 vs 2: every split is separable, so p = 1 at
// every n and N_c is clamped at 2.
TEST(Simcap, EasyDichotomiesClampAtTwo) {
  RandomStream rng(6);
  MatrixXd plane(2, 4);
  plane << 0, 1, 0, 0.2,  //
      0, 0, 1, 0.3;
  const MatrixXd basis = gaussian(rng, 5, 2);
  SimcapOptions o;
  o.dichotomies = 30;
  const SimcapResult r = simulated_capacity(point_manifolds(basis * plane), o);
  EXPECT_EQ(r.critical_dimension, 2.0);
  EXPECT_EQ(r.capacity, 2.0);
  ASSERT_FALSE(r.curve.empty());
  EXPECT_EQ(r.curve.front().first, 2);
  EXPECT_EQ(r.curve.front().second, 1.0);
}

// Every p(n) on the curve, recomputed from the documented draws with linearly_separable alone —
// no bisection, no reuse of verdicts across n, no least-squares shortcut: the n-dimensional
// projection is the first n of the fixed unit columns, dichotomy d shuffles ⌊P/2⌋ labels +1. The
// reuse of verdicts across n is valid only because the projections are nested, so a non-nested
// projection (or a wrong draw) fails here. The curve is then non-decreasing, the bisection brackets
// the crossing with evaluated neighbours, and a seed fixes every number.
TEST(Simcap, CurveMatchesADirectRecomputationAndBracketsTheCrossing) {
  const long P = 8, M = 12, N = 30;
  const auto manifolds = clouds(P, M, N, 3.0, 7);
  SimcapOptions o;
  o.dichotomies = 40;
  o.seed = 3;
  const SimcapResult r = simulated_capacity(manifolds, o);
  ASSERT_GE(r.curve.size(), 2u);

  MatrixXd projection(N, N), points(N, P * M);
  for (long j = 0; j < N; ++j) {
    RandomStream stream(o.seed, {stream_tag("simcap-projection"), std::uint64_t(j)});
    for (long i = 0; i < N; ++i) projection(i, j) = stream.normal();
    projection.col(j).normalize();
  }
  for (long m = 0; m < P; ++m) points.middleCols(m * M, M) = manifolds[m];
  for (const auto& [n, p] : r.curve) {
    const MatrixXd projected = projection.leftCols(n).transpose() * points;
    int separable = 0;
    for (int d = 0; d < o.dichotomies; ++d) {
      std::vector<int> manifold_labels(P, -1);
      std::fill(manifold_labels.begin(), manifold_labels.begin() + P / 2, 1);
      RandomStream stream(o.seed, {stream_tag("simcap-dichotomy"), std::uint64_t(d)});
      stream.shuffle(manifold_labels);
      std::vector<int> labels;
      for (long i = 0; i < P * M; ++i) labels.push_back(manifold_labels[i / M]);
      separable += linearly_separable(projected, labels);
    }
    EXPECT_EQ(p, double(separable) / o.dichotomies) << "n = " << n;
  }

  for (std::size_t k = 1; k < r.curve.size(); ++k) {
    EXPECT_LT(r.curve[k - 1].first, r.curve[k].first);
    EXPECT_LE(r.curve[k - 1].second, r.curve[k].second);
  }
  const auto above =
      std::find_if(r.curve.begin(), r.curve.end(), [](const auto& c) { return c.second >= 0.5; });
  ASSERT_NE(above, r.curve.end());
  ASSERT_NE(above, r.curve.begin());
  const auto below = above - 1;
  ASSERT_EQ(below->first + 1, above->first);
  EXPECT_DOUBLE_EQ(r.critical_dimension,
                   below->first + (0.5 - below->second) / (above->second - below->second));
  EXPECT_DOUBLE_EQ(r.capacity, P / r.critical_dimension);

  const SimcapResult again = simulated_capacity(manifolds, o);
  EXPECT_EQ(again.capacity, r.capacity);
  EXPECT_EQ(again.critical_dimension, r.critical_dimension);
  EXPECT_EQ(again.curve, r.curve);
}

// Point manifolds in general position: capacity 2 as P → ∞ (Cover). With a bias, Cover's fraction
// of ALL labelings that are separable, C(P, n + 1) / 2^P, crosses ½ at n = P/2 − 1, α = 2.105 for
// P = 40. Balanced dichotomies are a little harder than that average — 6000 draws of 40 Gaussian
// points gave p = 0.461 ± 0.007 against Cover's 0.500 at n = 19, 0.586 against 0.625 at n = 20 —
// so p(n) may sit up to ~0.05 below Cover on top of the binomial error (4σ), and the exact Cover
// check is the one over all labelings above. Measured α_sim over 7 seeds: 2.03–2.12 (this
// one 2.09).
TEST(Simcap, PointManifoldsFollowCoverAndHaveCapacityNearTwo) {
  const int P = 40, D = 200;
  RandomStream rng(8);
  SimcapOptions o;
  o.dichotomies = D;
  const SimcapResult r = simulated_capacity(point_manifolds(gaussian(rng, 50, P)), o);
  EXPECT_GT(r.capacity, 1.9);
  EXPECT_LT(r.capacity, 2.2);
  ASSERT_GE(r.curve.size(), 3u);
  for (const auto& [n, p] : r.curve) {
    const double cover = cover_count(P, n + 1) / std::pow(2.0, P);
    const double sigma = std::sqrt(cover * (1 - cover) / D);
    EXPECT_NEAR(p, cover - 0.025, 4 * sigma + 0.025) << "n = " << n;
  }
}

// Random-label Gaussian clouds: the simulated capacity checks the mean-field one. They are not the
// same number at this size — with P = 20 manifolds the simulation sits above the P → ∞ theory,
// and the bias adds a dimension — so the tolerance is one-sided in spirit: measured ratios
// α_sim / α_MFTMA over 11 seeds of this shape were 1.06–1.14 (this seed: 0.3663 / 0.3433 = 1.067).
TEST(Simcap, AgreesWithMftmaOnRandomGaussianClouds) {
  const auto manifolds = clouds(20, 20, 100, 10.0, 1);
  SimcapOptions so;
  so.dichotomies = 50;
  so.seed = 1;
  MftmaOptions mo;
  mo.n_t = 300;
  mo.seed = 1;
  const double ratio = simulated_capacity(manifolds, so).capacity / mftma(manifolds, mo).capacity;
  EXPECT_GT(ratio, 0.97);
  EXPECT_LT(ratio, 1.25);
}

TEST(Simcap, BadInputIsAClearError) {
  SimcapOptions o;
  EXPECT_THROW(simulated_capacity(clouds(1, 5, 4, 0.5, 1), o), UsageError);  // one manifold
  EXPECT_THROW(simulated_capacity(clouds(3, 5, 1, 0.5, 1), o), UsageError);  // N = 1
  auto bad = clouds(3, 5, 4, 0.5, 1);
  bad[1] = MatrixXd(4, 0);
  EXPECT_THROW(simulated_capacity(bad, o), UsageError);  // empty manifold
  bad = clouds(3, 5, 4, 0.5, 1);
  bad[2] = MatrixXd::Ones(5, 5);
  EXPECT_THROW(simulated_capacity(bad, o), UsageError);  // mismatched N
  bad = clouds(3, 5, 4, 0.5, 1);
  bad[0](1, 1) = std::numeric_limits<double>::infinity();
  EXPECT_THROW(simulated_capacity(bad, o), UsageError);
  o.dichotomies = 0;
  EXPECT_THROW(simulated_capacity(clouds(3, 5, 4, 0.5, 1), o), UsageError);
}
