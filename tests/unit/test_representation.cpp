#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "unit/geometry_clouds.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/geometry/representation.hpp"

using namespace grokscope;
using grokscope::test_data::gaussian;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {


MatrixXd orthonormal_columns(RandomStream& rng, long rows, long cols) {
  const MatrixXd a = gaussian(rng, rows, cols);
  return Eigen::HouseholderQR<MatrixXd>(a).householderQ() * MatrixXd::Identity(rows, cols);
}

// Walsh functions on 2^bits samples, without the constant one: mean-zero, mutually orthogonal,
// all of the same norm — exact in floating point (entries ±1).
MatrixXd walsh(int bits) {
  const long n = 1L << bits;
  MatrixXd w(n, n - 1);
  for (long k = 1; k < n; ++k)
    for (long i = 0; i < n; ++i) {
      int parity = 0;
      for (long v = i & k; v; v &= v - 1) parity ^= 1;
      w(i, k - 1) = parity ? -1.0 : 1.0;
    }
  return w;
}

// The definition itself, for the oracle: eigenvalues of the sample covariance.
double participation_by_eigenvalues(const MatrixXd& x) {
  const MatrixXd c = x.rowwise() - x.colwise().mean();
  const VectorXd l =
      Eigen::SelfAdjointEigenSolver<MatrixXd>(c.transpose() * c / double(x.rows() - 1))
          .eigenvalues();
  return l.sum() * l.sum() / l.squaredNorm();
}

// Ridge by the normal equations on [X, 1] with the bias unpenalized, λ = ridge · mean diagonal of
// the centered XᵀX; returns the argmax class of each test row.
std::vector<int> ridge_predictions(const MatrixXd& train_x, const std::vector<int>& train_y,
                                   const MatrixXd& test_x, int classes, double ridge) {
  const long n = train_x.rows(), N = train_x.cols();
  MatrixXd a(n, N + 1);
  a << train_x, VectorXd::Ones(n);
  MatrixXd y = MatrixXd::Zero(n, classes);
  for (long i = 0; i < n; ++i) y(i, train_y[i]) = 1;
  const MatrixXd centered = train_x.rowwise() - train_x.colwise().mean();
  MatrixXd penalty = MatrixXd::Zero(N + 1, N + 1);
  penalty.topLeftCorner(N, N).diagonal().setConstant(ridge * centered.squaredNorm() / double(N));
  const MatrixXd beta = (a.transpose() * a + penalty).fullPivLu().solve(a.transpose() * y);
  MatrixXd t(test_x.rows(), N + 1);
  t << test_x, VectorXd::Ones(test_x.rows());
  const MatrixXd scores = t * beta;
  std::vector<int> out;
  for (long i = 0; i < scores.rows(); ++i) {
    long k = 0;
    scores.row(i).maxCoeff(&k);
    out.push_back(int(k));
  }
  return out;
}

std::vector<int> random_labels(RandomStream& rng, long count, int classes) {
  std::vector<int> y;
  for (long i = 0; i < count; ++i) y.push_back(int(rng.below(std::uint64_t(classes))));
  return y;
}

}  // namespace

TEST(ParticipationRatio, IsotropicGaussianIsTheDimension) {
  RandomStream rng(1);
  const long N = 20, n = 20000;
  // For a sample covariance, E tr(C²) ≈ N (1 + N/n) σ⁴: PR ≈ N / (1 + N/n) ≈ 19.98.
  EXPECT_NEAR(participation_ratio(gaussian(rng, n, N)), N / (1.0 + double(N) / n), 0.1);
}

TEST(ParticipationRatio, EqualVariancesOnASubspaceGiveItsDimension) {
  RandomStream rng(2);
  const MatrixXd w = walsh(3);  // 8 samples
  for (long k = 1; k <= 5; ++k) {
    const MatrixXd u = orthonormal_columns(rng, 12, k);
    MatrixXd x = 3.0 * w.leftCols(k) * u.transpose();
    x.rowwise() += gaussian(rng, 1, 12).row(0);  // an offset: centering removes it
    EXPECT_NEAR(participation_ratio(x), double(k), 1e-8 * k) << "k = " << k;
  }
  // A rank-1 layer, also with fewer units than samples and the other way round.
  EXPECT_NEAR(participation_ratio(gaussian(rng, 30, 1) * gaussian(rng, 1, 5)), 1.0, 1e-8);
  EXPECT_NEAR(participation_ratio(gaussian(rng, 4, 1) * gaussian(rng, 1, 50)), 1.0, 1e-8);
}

TEST(ParticipationRatio, MatchesTheEigenvaluesAndIsScaleFree) {
  RandomStream rng(3);
  for (const auto& [n, N] : {std::pair{40L, 7L}, std::pair{9L, 30L}}) {
    const MatrixXd x = gaussian(rng, n, N) * gaussian(rng, N, N);  // anisotropic
    const double pr = participation_ratio(x);
    EXPECT_NEAR(pr, participation_by_eigenvalues(x), 1e-10 * pr) << n << " x " << N;
    EXPECT_GE(pr, 1.0);
    EXPECT_LE(pr, double(std::min(n - 1, N)) + 1e-9);
    EXPECT_NEAR(participation_ratio(1e150 * x), pr, 1e-10 * pr);
    EXPECT_NEAR(participation_ratio(1e-150 * x), pr, 1e-10 * pr);
  }
}

TEST(ParticipationRatio, BadInputIsAClearError) {
  EXPECT_THROW(participation_ratio(MatrixXd::Ones(1, 4)), UsageError);
  EXPECT_THROW(participation_ratio(MatrixXd::Ones(5, 4)), UsageError);  // constant layer
  MatrixXd bad = MatrixXd::Identity(4, 4);
  bad(2, 2) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(participation_ratio(bad), UsageError);
}

TEST(Probe, SeparatedBlobsAreReadPerfectly) {
  RandomStream rng(4);
  const int classes = 3;
  const MatrixXd centers = gaussian(rng, classes, 40, 3.0);  // ~27 apart, unit noise
  auto sample = [&](long count, std::vector<int>* y) {
    MatrixXd x = gaussian(rng, count, 40);
    for (long i = 0; i < count; ++i) {
      y->push_back(int(i % classes));
      x.row(i) += centers.row(i % classes);
    }
    return x;
  };
  // Fewer training rows than units (the kernel form), then more (the primal form).
  for (long train_rows : {15L, 200L}) {
    std::vector<int> train_y, test_y;
    const MatrixXd train_x = sample(train_rows, &train_y), test_x = sample(90, &test_y);
    EXPECT_EQ(probe_accuracy(train_x, train_y, test_x, test_y, classes), 1.0) << train_rows;
  }
}

TEST(Probe, RandomTestLabelsScoreChance) {
  RandomStream rng(5);
  const int classes = 4;
  const long test_rows = 2000;
  const MatrixXd train_x = gaussian(rng, 100, 10), test_x = gaussian(rng, test_rows, 10);
  const double accuracy = probe_accuracy(train_x, random_labels(rng, 100, classes), test_x,
                                         random_labels(rng, test_rows, classes), classes);
  const double sigma = std::sqrt(0.25 * 0.75 / test_rows);
  EXPECT_NEAR(accuracy, 0.25, 4 * sigma);
}

// The closed form against the normal equations with an explicit bias column: the probe scores
// 1 on the oracle's own predictions. A strong ridge makes λ matter — the predictions under a
// different λ disagree somewhere, so a wrong λ or a penalized bias would fail this.
TEST(Probe, MatchesTheNormalEquations) {
  RandomStream rng(6);
  const int classes = 5;
  ProbeOptions o;
  o.ridge = 0.5;
  for (const auto& [n, N] : {std::pair{12L, 20L}, std::pair{60L, 6L}}) {
    const MatrixXd train_x = gaussian(rng, n, N).array() + 2.0, test_x = gaussian(rng, 300, N);
    const std::vector<int> train_y = random_labels(rng, n, classes);
    const std::vector<int> oracle = ridge_predictions(train_x, train_y, test_x, classes, o.ridge);
    EXPECT_EQ(probe_accuracy(train_x, train_y, test_x, oracle, classes, o), 1.0) << n << " x " << N;
    const std::vector<int> other =
        ridge_predictions(train_x, train_y, test_x, classes, 4 * o.ridge);
    ASSERT_NE(oracle, other) << "the construction does not distinguish λ";
    EXPECT_LT(probe_accuracy(train_x, train_y, test_x, other, classes, o), 1.0);
  }
}

TEST(Probe, ConstantActivationsPredictTheMajorityClass) {
  const MatrixXd train_x = MatrixXd::Constant(5, 3, 0.7), test_x = MatrixXd::Zero(4, 3);
  EXPECT_EQ(probe_accuracy(train_x, {2, 2, 0, 2, 1}, test_x, {2, 2, 1, 0}, 3), 0.5);
}

TEST(Probe, BadInputIsAClearError) {
  const MatrixXd x = MatrixXd::Identity(3, 3);
  EXPECT_THROW(probe_accuracy(x, {0, 1, 0}, x, {0, 1, 0}, 1), UsageError);  // 1 class
  EXPECT_THROW(probe_accuracy(x, {0, 1}, x, {0, 1, 0}, 2), UsageError);     // label count
  EXPECT_THROW(probe_accuracy(x, {0, 1, 2}, x, {0, 1, 0}, 2), UsageError);  // label range
  EXPECT_THROW(probe_accuracy(x, {0, 1, 0}, MatrixXd::Identity(3, 2), {0, 1, 0}, 2), UsageError);
  EXPECT_THROW(probe_accuracy(x, {0, 1, 0}, MatrixXd(0, 3), {}, 2), UsageError);
  ProbeOptions o;
  o.ridge = 0;
  EXPECT_THROW(probe_accuracy(x, {0, 1, 0}, x, {0, 1, 0}, 2, o), UsageError);
  MatrixXd bad = x;
  bad(0, 0) = std::numeric_limits<double>::infinity();
  EXPECT_THROW(probe_accuracy(bad, {0, 1, 0}, x, {0, 1, 0}, 2), UsageError);
}
