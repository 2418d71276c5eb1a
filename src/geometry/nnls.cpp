#include "grokscope/geometry/nnls.hpp"

#include <cmath>
#include <vector>

namespace grokscope {
namespace {

// Upper-triangular R with RᵀR = G[P, P] for the ordered passive set P, updated in place.
class PassiveCholesky {
 public:
  explicit PassiveCholesky(const Eigen::MatrixXd& gram) : gram_(gram), R_(gram.rows(), gram.rows()) {}
  int size() const { return static_cast<int>(cols_.size()); }
  const std::vector<int>& columns() const { return cols_; }

  // Appends column j; false when it is (numerically) dependent on the passive columns.
  bool add(int j) {
    const int k = size();
    Eigen::VectorXd r(k);
    for (int i = 0; i < k; ++i) r(i) = gram_(cols_[i], j);
    if (k > 0) R_.topLeftCorner(k, k).triangularView<Eigen::Upper>().transpose().solveInPlace(r);
    const double d2 = gram_(j, j) - r.squaredNorm();
    if (!(d2 > 1e-13 * gram_(j, j))) return false;
    R_.block(0, k, k, 1) = r;
    R_.block(k, 0, 1, k).setZero();
    R_(k, k) = std::sqrt(d2);
    cols_.push_back(j);
    return true;
  }

  // Removes the column at position q: shift R's columns left, then Givens rotations restore the
  // upper-triangular shape.
  void remove(int q) {
    const int k = size();
    for (int c = q; c + 1 < k; ++c) R_.col(c).head(k) = R_.col(c + 1).head(k);
    for (int i = q; i + 1 < k; ++i) {
      const double a = R_(i, i), b = R_(i + 1, i);
      const double h = std::hypot(a, b);
      if (h == 0) continue;
      const double c = a / h, s = b / h;
      for (int col = i; col + 1 < k; ++col) {
        const double x = R_(i, col), y = R_(i + 1, col);
        R_(i, col) = c * x + s * y;
        R_(i + 1, col) = -s * x + c * y;
      }
    }
    cols_.erase(cols_.begin() + q);
  }

  // Solves G[P,P] s = rhs[P].
  Eigen::VectorXd solve(const Eigen::VectorXd& rhs) const {
    const int k = size();
    Eigen::VectorXd s(k);
    for (int i = 0; i < k; ++i) s(i) = rhs(cols_[i]);
    const auto R = R_.topLeftCorner(k, k).triangularView<Eigen::Upper>();
    R.transpose().solveInPlace(s);
    R.solveInPlace(s);
    return s;
  }

 private:
  const Eigen::MatrixXd& gram_;
  Eigen::MatrixXd R_;
  std::vector<int> cols_;
};

}  // namespace

Nnls::Nnls(const Eigen::MatrixXd& S, double tolerance)
    : S_(S), gram_(S.transpose() * S), tolerance_(tolerance) {}

NnlsResult Nnls::solve(const Eigen::VectorXd& t) const {
  const int n = static_cast<int>(S_.cols());
  const Eigen::VectorXd st = S_.transpose() * t;
  const double scale = std::max(1.0, st.cwiseAbs().maxCoeff());
  NnlsResult result;
  result.a = Eigen::VectorXd::Zero(n);
  std::vector<char> passive(static_cast<std::size_t>(n), 0), rejected(static_cast<std::size_t>(n), 0);
  PassiveCholesky chol(gram_);
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
    if (!chol.add(enter)) {  // dependent column: it cannot improve the fit
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
    w = st - gram_ * result.a;
    std::fill(rejected.begin(), rejected.end(), 0);
  }
  return result;
}

}  // namespace grokscope
