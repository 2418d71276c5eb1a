#include "grokscope/geometry/representation.hpp"

#include <cmath>
#include <string>

#include "grokscope/core/error.hpp"

namespace grokscope {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// The second moment of a spectrum without its eigenvalues: Σλ² of AᵀA equals ‖AᵀA‖²_F, and AᵀA
// (N × N) and AAᵀ (n × n) share their nonzero eigenvalues, so the smaller product serves.
double squared_spectrum_sum(const MatrixXd& A) {
  const MatrixXd gram =
      A.rows() < A.cols() ? MatrixXd(A * A.transpose()) : MatrixXd(A.transpose() * A);
  return gram.squaredNorm();
}

void check_probe_input(const MatrixXd& train_x, const std::vector<int>& train_y,
                       const MatrixXd& test_x, const std::vector<int>& test_y, int classes,
                       const ProbeOptions& options) {
  if (classes < 2)
    throw UsageError("probe: needs at least 2 classes, got " + std::to_string(classes));
  if (!(options.ridge > 0) || !std::isfinite(options.ridge))
    throw UsageError("probe: ridge must be > 0 and finite, got " + std::to_string(options.ridge));
  if (train_x.rows() < 1 || test_x.rows() < 1)
    throw UsageError("probe: needs at least one training and one test row");
  if (train_x.cols() < 1 || train_x.cols() != test_x.cols())
    throw UsageError("probe: training activations have " + std::to_string(train_x.cols()) +
                     " units, test activations " + std::to_string(test_x.cols()));
  if (long(train_y.size()) != train_x.rows() || long(test_y.size()) != test_x.rows())
    throw UsageError("probe: one label per row is needed (" + std::to_string(train_y.size()) +
                     " for " + std::to_string(train_x.rows()) + " training rows, " +
                     std::to_string(test_y.size()) + " for " + std::to_string(test_x.rows()) +
                     " test rows)");
  for (const auto* labels : {&train_y, &test_y})
    for (int y : *labels)
      if (y < 0 || y >= classes)
        throw UsageError("probe: label " + std::to_string(y) + " is outside [0, " +
                         std::to_string(classes) + ")");
  if (!train_x.allFinite() || !test_x.allFinite())
    throw UsageError("probe: activations contain NaN or infinite values");
}

// Ridge weights W (N × C) for centered inputs Xc and centered targets Yc: the bias is unpenalized,
// so it is the target mean once inputs are centered. Solved on the smaller side: with fewer rows
// than units, W = Xcᵀ (XcXcᵀ + λI)⁻¹ Yc (the kernel form, n × n) equals (XcᵀXc + λI)⁻¹ XcᵀYc.
MatrixXd ridge_weights(const MatrixXd& Xc, const MatrixXd& Yc, double lambda) {
  const long n = Xc.rows(), N = Xc.cols();
  if (n < N) {
    MatrixXd K = Xc * Xc.transpose();
    K.diagonal().array() += lambda;
    return Xc.transpose() * K.ldlt().solve(Yc);
  }
  MatrixXd G = Xc.transpose() * Xc;
  G.diagonal().array() += lambda;
  return G.ldlt().solve(Xc.transpose() * Yc);
}

}  // namespace

double participation_ratio(const MatrixXd& activations) {
  if (activations.rows() < 2)
    throw UsageError("participation ratio: needs at least 2 samples, got " +
                     std::to_string(activations.rows()));
  if (activations.cols() < 1) throw UsageError("participation ratio: needs at least 1 unit");
  if (!activations.allFinite())
    throw UsageError("participation ratio: activations contain NaN or infinite values");
  MatrixXd centered = activations.rowwise() - activations.colwise().mean();
  // Rescaled so that the fourth powers below neither overflow nor underflow; the ratio is
  // scale-free, and so is the 1/(n − 1) of the covariance, which cancels.
  const double largest = centered.cwiseAbs().maxCoeff();
  if (!(largest > 0))
    throw UsageError("participation ratio: every unit is constant (the covariance is zero)");
  centered /= largest;
  // (Σλ)² / Σλ² from the trace and the Frobenius norm: exact, and no eigensolver is needed.
  const double trace = centered.squaredNorm();
  return trace * trace / squared_spectrum_sum(centered);
}

double probe_accuracy(const MatrixXd& train_x, const std::vector<int>& train_y,
                      const MatrixXd& test_x, const std::vector<int>& test_y, int classes,
                      const ProbeOptions& options) {
  check_probe_input(train_x, train_y, test_x, test_y, classes, options);
  const long n = train_x.rows();
  MatrixXd Y = MatrixXd::Zero(n, classes);
  for (long i = 0; i < n; ++i) Y(i, train_y[i]) = 1.0;
  const VectorXd x_mean = train_x.colwise().mean().transpose();
  const VectorXd y_mean = Y.colwise().mean().transpose();
  const MatrixXd Xc = train_x.rowwise() - x_mean.transpose();
  const MatrixXd Yc = Y.rowwise() - y_mean.transpose();
  // λ relative to the mean diagonal of XcᵀXc, so that the same option means the same at any scale.
  const double mean_diagonal = Xc.squaredNorm() / double(Xc.cols());
  // Constant training activations carry nothing: W = 0, and the probe predicts the majority class.
  const MatrixXd W = mean_diagonal > 0 ? ridge_weights(Xc, Yc, options.ridge * mean_diagonal)
                                       : MatrixXd::Zero(train_x.cols(), classes);
  const MatrixXd scores =
      ((test_x.rowwise() - x_mean.transpose()) * W).rowwise() + y_mean.transpose();
  long correct = 0;
  for (long i = 0; i < scores.rows(); ++i) {
    long predicted = 0;
    scores.row(i).maxCoeff(&predicted);  // ties go to the lowest class index
    if (predicted == test_y[i]) ++correct;
  }
  return double(correct) / double(scores.rows());
}

}  // namespace grokscope
