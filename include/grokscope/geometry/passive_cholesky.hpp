#pragma once
// The factor both active-set NNLS solvers (nnls.cpp's Lawson–Hanson and GLUE's working-set
// solver) update as columns enter and leave the passive set. Internal to the geometry module.
#include <Eigen/Dense>

#include <cmath>
#include <vector>

namespace grokscope {

// Upper-triangular R with RᵀR = G[P, P] for the ordered passive set P, updated in place: a column
// entering appends one row and column (O(k²)), one leaving is removed by Givens rotations (O(k²)),
// so a solve never refactors. The caller hands over the entering column's Gram entries, because
// GLUE's Gram matrix grows with its working set instead of being formed up front.
class PassiveCholesky {
 public:
  explicit PassiveCholesky(long capacity) : R_(capacity, capacity) {}
  int size() const { return static_cast<int>(cols_.size()); }
  const std::vector<int>& columns() const { return cols_; }

  // Appends column j, with gram(i) = G(i, j) for every index i; false when j is (numerically)
  // dependent on the passive columns, or the factor is full.
  bool add(int j, const Eigen::Ref<const Eigen::VectorXd>& gram) {
    const int k = size();
    if (k == R_.rows()) return false;
    Eigen::VectorXd r(k);
    for (int i = 0; i < k; ++i) r(i) = gram(cols_[i]);
    if (k > 0) R_.topLeftCorner(k, k).triangularView<Eigen::Upper>().transpose().solveInPlace(r);
    const double d2 = gram(j) - r.squaredNorm();
    if (!(d2 > 1e-13 * gram(j))) return false;
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
  Eigen::MatrixXd R_;
  std::vector<int> cols_;
};

}  // namespace grokscope
