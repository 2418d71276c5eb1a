#include "grokscope/geometry/nnls.hpp"

#include <algorithm>
#include <vector>

#include "grokscope/geometry/passive_cholesky.hpp"

namespace grokscope {

Nnls::Nnls(const Eigen::MatrixXd& S, double tolerance)
    : S_(S), gram_(S.transpose() * S), tolerance_(tolerance) {}

NnlsResult Nnls::solve(const Eigen::VectorXd& t) const {
  const int n = static_cast<int>(S_.cols());
  const Eigen::VectorXd st = S_.transpose() * t;
  const double scale = std::max(1.0, st.cwiseAbs().maxCoeff());
  NnlsResult result;
  result.a = Eigen::VectorXd::Zero(n);
  std::vector<char> passive(static_cast<std::size_t>(n), 0), rejected(static_cast<std::size_t>(n), 0);
  // At most rank(S) ≤ rows(S) columns are ever passive (dependent ones are rejected), which keeps
  // the factor small when S has many more columns (points) than rows (dimensions).
  PassiveCholesky chol(std::min<long>(n, S_.rows()));
  const int max_iterations = 3 * n + 10;
  // w = Sᵀ(t − S a) = Sᵀt − G a: the negative gradient; positive entries may enter.
  Eigen::VectorXd w = st;
  while (true) {
    int enter = -1;
    double best = tolerance_ * scale;
    for (int j = 0; j < n; ++j)
      if (!passive[j] && !rejected[j] && w(j) > best) best = w(j), enter = j;
    if (enter < 0) break;
    if (++result.iterations > max_iterations) {
      result.converged = false;
      break;
    }
    if (!chol.add(enter, gram_.col(enter))) {  // dependent column: it cannot improve the fit
      rejected[enter] = 1;
      continue;
    }
    passive[enter] = 1;
    while (true) {
      const Eigen::VectorXd s = chol.solve(st);
      // All passive coefficients positive: accept.
      double alpha = 1.0;
      int leave = -1;
      for (int i = 0; i < chol.size(); ++i)
        if (s(i) <= 0) {
          const double ai = result.a(chol.columns()[i]);
          const double step = ai / (ai - s(i));
          if (step < alpha) alpha = step, leave = i;
        }
      if (leave < 0) {
        result.a.setZero();
        for (int i = 0; i < chol.size(); ++i) result.a(chol.columns()[i]) = s(i);
        break;
      }
      // Move toward s until the first coefficient hits zero; drop every zero.
      for (int i = 0; i < chol.size(); ++i) {
        const int j = chol.columns()[i];
        result.a(j) += alpha * (s(i) - result.a(j));
      }
      result.a(chol.columns()[leave]) = 0;
      for (int i = chol.size(); i-- > 0;) {
        const int j = chol.columns()[i];
        if (result.a(j) <= 0) {
          result.a(j) = 0;
          passive[j] = 0;
          chol.remove(i);
        }
      }
    }
    // λ is zero off the passive set: O(n·|P|) instead of a full GEMV.
    w = st;
    for (const int j : chol.columns()) w.noalias() -= result.a(j) * gram_.col(j);
    std::fill(rejected.begin(), rejected.end(), 0);
  }
  return result;
}

}  // namespace grokscope
