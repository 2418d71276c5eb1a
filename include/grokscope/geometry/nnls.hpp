#pragma once
// Non-negative least squares, min ‖S a − t‖² subject to a ≥ 0 (Lawson & Hanson 1974, ch. 23),
// the inner problem of MFTMA and GLUE (metrics.md §2 step 5, §3).
//
// The passive-set least-squares problems are solved through a Cholesky factor of the passive
// columns' Gram matrix that is updated as columns enter (one row appended, O(k²)) and leave
// (Givens rotations, O(k²)) instead of refactored, with the Gram matrix SᵀS computed once per S:
// the many right-hand sides t of one manifold share it.
#include <Eigen/Dense>

namespace grokscope {

struct NnlsResult {
  Eigen::VectorXd a;      // the solution, a ≥ 0
  int iterations = 0;     // outer iterations (columns entered)
  bool converged = true;  // false if the iteration cap was hit
};

class Nnls {
 public:
  // S: rows × columns. `tolerance` is relative to the scale of Sᵀt.
  explicit Nnls(const Eigen::MatrixXd& S, double tolerance = 1e-12);
  NnlsResult solve(const Eigen::VectorXd& t) const;

 private:
  const Eigen::MatrixXd& S_;
  Eigen::MatrixXd gram_;  // SᵀS
  double tolerance_;
};

}  // namespace grokscope
