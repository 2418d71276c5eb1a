#pragma once
// Layer-wide measures of a representation (metrics.md §5): the participation ratio of the
// activations' covariance spectrum, and a linear readout ("probe") fitted on training activations
// and scored on test activations, which separates what the representation holds from what the
// network's own readout does with it.
#include <Eigen/Dense>
#include <vector>

namespace grokscope {

// (Σλ)² / Σλ² of the covariance eigenvalues of `activations` (rows = samples, columns = units).
// In [1, min(n − 1, N)]; NaN-free: throws UsageError for fewer than 2 rows, non-finite values,
// or an all-constant layer (zero covariance). Computed without an eigensolver: Σλ is the trace of
// the covariance and Σλ² its squared Frobenius norm, taken on the smaller of the N × N covariance
// and the n × n Gram matrix (they share their nonzero eigenvalues).
double participation_ratio(const Eigen::MatrixXd& activations);

struct ProbeOptions {
  double ridge = 1e-3;  // λ of the ridge readout, relative to the mean diagonal of XᵀX (> 0)
};

// Ridge regression (closed form, with an unpenalized bias) from activations to one-hot targets;
// returns the accuracy (argmax, ties to the lowest class) on the test rows. X is the CENTERED
// training activations, so λ = ridge · tr(XᵀX)/N. Solved on the smaller side: the n × n kernel
// form when there are fewer training rows than units. Constant training activations give W = 0,
// i.e. the majority training class. Labels are in [0, classes), classes ≥ 2; throws UsageError on
// bad input (shapes, labels, non-finite values, ridge ≤ 0).
double probe_accuracy(const Eigen::MatrixXd& train_x, const std::vector<int>& train_y,
                      const Eigen::MatrixXd& test_x, const std::vector<int>& test_y, int classes,
                      const ProbeOptions& options = {});

}  // namespace grokscope
