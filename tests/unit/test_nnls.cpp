#include <gtest/gtest.h>

#include <limits>

#include "grokscope/core/random.hpp"
#include "grokscope/geometry/nnls.hpp"

using namespace grokscope;

namespace {
Eigen::MatrixXd random_matrix(RandomStream& rng, int rows, int cols) {
  Eigen::MatrixXd m(rows, cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) m(i, j) = rng.normal();
  return m;
}
Eigen::VectorXd random_vector(RandomStream& rng, int n) {
  Eigen::VectorXd v(n);
  for (int i = 0; i < n; ++i) v(i) = rng.normal();
  return v;
}
}  // namespace

// KKT: a ≥ 0, w = Sᵀ(t − Sa) ≤ 0 everywhere and w = 0 where a > 0.
TEST(Nnls, KktConditionsOnRandomProblems) {
  RandomStream rng(17);
  for (int trial = 0; trial < 200; ++trial) {
    const int rows = 2 + static_cast<int>(rng.below(40)), cols = 1 + static_cast<int>(rng.below(60));
    const Eigen::MatrixXd S = random_matrix(rng, rows, cols);
    const Eigen::VectorXd t = random_vector(rng, rows);
    const NnlsResult r = Nnls(S).solve(t);
    ASSERT_TRUE(r.converged);
    const Eigen::VectorXd w = S.transpose() * (t - S * r.a);
    const double scale = std::max(1.0, (S.transpose() * t).cwiseAbs().maxCoeff());
    for (int j = 0; j < cols; ++j) {
      EXPECT_GE(r.a(j), 0.0);
      EXPECT_LE(w(j), 1e-10 * scale) << "trial " << trial;
      if (r.a(j) > 0) {
        EXPECT_NEAR(w(j), 0.0, 1e-10 * scale) << "trial " << trial;
      }
    }
  }
}

// On tiny problems the optimum is the best feasible least-squares fit over all column subsets.
TEST(Nnls, AgreesWithBruteForceOverActiveSets) {
  RandomStream rng(5);
  for (int trial = 0; trial < 100; ++trial) {
    const int rows = 2 + static_cast<int>(rng.below(5)), cols = 1 + static_cast<int>(rng.below(6));
    const Eigen::MatrixXd S = random_matrix(rng, rows, cols);
    const Eigen::VectorXd t = random_vector(rng, rows);
    double best = t.squaredNorm();  // the empty set
    for (int mask = 1; mask < (1 << cols); ++mask) {
      std::vector<int> idx;
      for (int j = 0; j < cols; ++j)
        if (mask & (1 << j)) idx.push_back(j);
      Eigen::MatrixXd sub(rows, static_cast<int>(idx.size()));
      for (std::size_t k = 0; k < idx.size(); ++k) sub.col(static_cast<int>(k)) = S.col(idx[k]);
      const Eigen::VectorXd x = sub.colPivHouseholderQr().solve(t);
      if ((x.array() < 0).any()) continue;
      best = std::min(best, (sub * x - t).squaredNorm());
    }
    const NnlsResult r = Nnls(S).solve(t);
    EXPECT_NEAR((S * r.a - t).squaredNorm(), best, 1e-10 * std::max(1.0, t.squaredNorm())) << "trial " << trial;
  }
}

TEST(Nnls, DependentAndDuplicateColumns) {
  RandomStream rng(9);
  Eigen::MatrixXd S = random_matrix(rng, 3, 8);  // more columns than rows
  S.col(5) = S.col(2);                           // a duplicate
  S.col(6) = 2.0 * S.col(1) + S.col(0);          // a combination
  for (int trial = 0; trial < 50; ++trial) {
    const Eigen::VectorXd t = random_vector(rng, 3);
    const NnlsResult r = Nnls(S).solve(t);
    EXPECT_TRUE(r.converged);
    const Eigen::VectorXd w = S.transpose() * (t - S * r.a);
    EXPECT_LE(w.maxCoeff(), 1e-9);
    EXPECT_GE(r.a.minCoeff(), 0.0);
  }
}
