#include "grokscope/geometry/mftma.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "grokscope/core/error.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/geometry/nnls.hpp"

namespace grokscope {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// Mean |cos| between the rows of X over ordered pairs m ≠ n (the reference's "res_coeff").
double mean_abs_row_cosine(const MatrixXd& X) {
  const long P = X.rows();
  const VectorXd norms = X.rowwise().norm();
  const MatrixXd C = X * X.transpose();
  double sum = 0;
  for (long m = 0; m < P; ++m)
    for (long n = 0; n < P; ++n)
      if (m != n) sum += std::abs(C(m, n) / (norms(m) * norms(n)));
  return sum / double(P * (P - 1));
}

// Q of a thin QR with the signs fixed so that R has a positive diagonal (a retraction needs a
// unique factor).
MatrixXd orthonormal_q(const MatrixXd& A) {
  Eigen::HouseholderQR<MatrixXd> qr(A);
  MatrixXd Q = qr.householderQ() * MatrixXd::Identity(A.rows(), A.cols());
  const MatrixXd R = qr.matrixQR().topRows(A.cols()).triangularView<Eigen::Upper>();
  for (long j = 0; j < A.cols(); ++j)
    if (R(j, j) < 0) Q.col(j) = -Q.col(j);
  return Q;
}

// Riemannian gradient on the Stiefel manifold: the tangent projection of the Euclidean gradient.
MatrixXd tangent(const MatrixXd& V, const MatrixXd& G) {
  const MatrixXd VtG = V.transpose() * G;
  return G - V * (0.5 * (VtG + VtG.transpose()));
}

// Riemannian conjugate gradient (Hestenes–Stiefel β clipped at 0, Armijo backtracking, QR
// retraction, transport by projection), minimizing center_cost over V with VᵀV = I.
MatrixXd stiefel_cg(const MatrixXd& X, MatrixXd V, int max_iterations) {
  MatrixXd egrad;
  double cost = center_cost(X, V, &egrad);
  MatrixXd grad = tangent(V, egrad), direction = -grad;
  double step = 1.0;
  for (int it = 0; it < max_iterations; ++it) {
    const double gnorm = grad.norm();
    if (gnorm < 1e-6) break;
    double slope = (grad.array() * direction.array()).sum();
    if (slope >= 0) {  // not a descent direction: restart along the negative gradient
      direction = -grad;
      slope = -gnorm * gnorm;
    }
    // Armijo backtracking from a step that grows again after easy iterations.
    double t = std::min(1e3, 2.0 * step);
    MatrixXd candidate;
    double candidate_cost = cost;
    bool accepted = false;
    for (int k = 0; k < 60; ++k, t *= 0.5) {
      candidate = orthonormal_q(V + t * direction);
      candidate_cost = center_cost(X, candidate, nullptr);
      if (candidate_cost <= cost + 1e-4 * t * slope) {
        accepted = true;
        break;
      }
    }
    if (!accepted || std::abs(cost - candidate_cost) < 1e-12 * std::max(1.0, std::abs(cost))) {
      if (accepted) V = candidate;
      break;
    }
    step = t;
    V = candidate;
    cost = center_cost(X, V, &egrad);
    const MatrixXd new_grad = tangent(V, egrad);
    const MatrixXd old_grad = tangent(V, grad), old_dir = tangent(V, direction);
    const MatrixXd diff = new_grad - old_grad;
    const double denom = (diff.array() * old_dir.array()).sum();
    const double beta = denom != 0 ? std::max(0.0, (new_grad.array() * diff.array()).sum() / denom) : 0.0;
    grad = new_grad;
    direction = -grad + beta * old_dir;
  }
  return V;
}

struct CenterSubspace {
  MatrixXd V;  // N × K*, orthonormal, in the ambient space
  double center_correlation = 0, residual = 0;
  int K = 0;
};

// The restarts of each K are independent given the previous K's solution, so they are dealt over
// the ranks (restart r to rank r mod R); every rank then learns every restart's stability and takes
// the winner's V from its owner. Each restart's numbers come from its own keyed stream and the same
// code path on every rank count, so the choice (the first restart of greatest stability, as
// sequentially) and the V are the same on 1 rank as on R.
CenterSubspace remove_center_subspace(const MatrixXd& centers, const MftmaOptions& options, Communicator* comm) {
  const int ranks = comm ? comm->size() : 1, rank = comm ? comm->rank() : 0;
  const long P = centers.cols();
  CenterSubspace out;
  // Centers relative to their mean, in an orthonormal basis of their span (P × (P−1)).
  const MatrixXd Xb = centers.transpose().rowwise() - centers.transpose().colwise().mean();
  const MatrixXd q = orthonormal_q(Xb.transpose());  // N × P
  const MatrixXd proj = q.leftCols(P - 1);
  const MatrixXd X = Xb * proj;
  out.center_correlation = mean_abs_row_cosine(X);
  out.residual = out.center_correlation;
  // maxK: components needed for 95% of the centered centers' variance, plus 11, below P − 1.
  const VectorXd sv = Eigen::JacobiSVD<MatrixXd>(Xb).singularValues();
  const double total = sv.squaredNorm();
  double cumulative = 0;
  long last_below = 0;
  for (long i = 0; i < sv.size(); ++i) {
    cumulative += sv(i) * sv(i) / total;
    if (cumulative < 0.95) last_below = i;
  }
  const long max_k = std::min<long>(last_below + 11, P - 2);
  if (max_k < 1) return out;  // P = 2: no direction can be removed without removing everything

  std::vector<double> residuals;
  std::vector<MatrixXd> solutions;
  MatrixXd previous;
  for (long k = 1; k <= max_k; ++k) {
    std::vector<double> stability(static_cast<std::size_t>(options.restarts), 0.0);
    std::vector<MatrixXd> mine(static_cast<std::size_t>(options.restarts));
    for (int rep = 0; rep < options.restarts; ++rep) {
      if (rep % ranks != rank) continue;
      RandomStream stream(options.seed, {stream_tag("mftma-center-restart"), std::uint64_t(k), std::uint64_t(rep)});
      VectorXd s(P);
      for (long i = 0; i < P; ++i) s(i) = stream.normal();
      MatrixXd V0(P - 1, k);
      V0.col(0) = X.transpose() * s;
      if (k > 1) V0.rightCols(k - 1) = previous;
      const MatrixXd V = stiefel_cg(X, orthonormal_q(V0), options.max_cg_iterations);
      const MatrixXd X0 = X - X * V * V.transpose();
      stability[rep] = (X0.rowwise().norm().array() / X.rowwise().norm().array()).minCoeff();
      mine[rep] = V;
    }
    if (ranks > 1) comm->allreduce_sum(stability.data(), stability.size());  // each slot has one writer
    const int winner = static_cast<int>(std::max_element(stability.begin(), stability.end()) - stability.begin());
    MatrixXd best = winner % ranks == rank ? mine[winner] : MatrixXd(P - 1, k);
    if (ranks > 1) comm->broadcast(best.data(), sizeof(double) * std::size_t(best.size()), winner % ranks);
    previous = best;
    solutions.push_back(best);
    residuals.push_back(mean_abs_row_cosine(X - X * best * best.transpose()));
    const std::size_t i = residuals.size();
    if (k > 4 && residuals[i - 1] > residuals[i - 2] && residuals[i - 2] > residuals[i - 3] &&
        residuals[i - 3] > residuals[i - 4])
      break;
  }
  const auto best = std::min_element(residuals.begin(), residuals.end()) - residuals.begin();
  out.K = static_cast<int>(best) + 1;
  out.residual = residuals[best];
  out.V = proj * solutions[best];
  return out;
}

void check_input(const std::vector<MatrixXd>& manifolds, const MftmaOptions& options) {
  if (options.kappa != 0)
    throw UsageError("MFTMA: only kappa = 0 is supported (kappa > 0 makes each sample a general QP)");
  if (options.n_t < 1) throw UsageError("MFTMA: n_t must be >= 1");
  if (manifolds.size() < 2) throw UsageError("MFTMA needs at least 2 manifolds, got " + std::to_string(manifolds.size()));
  const long N = manifolds.front().rows();
  if (N < 2) throw UsageError("MFTMA needs at least 2 features per point, got " + std::to_string(N));
  for (std::size_t m = 0; m < manifolds.size(); ++m) {
    if (manifolds[m].rows() != N)
      throw UsageError("MFTMA: manifold " + std::to_string(m) + " has " + std::to_string(manifolds[m].rows()) +
                       " features, manifold 0 has " + std::to_string(N));
    if (manifolds[m].cols() < 2)
      throw UsageError("MFTMA: manifold " + std::to_string(m) + " has " + std::to_string(manifolds[m].cols()) +
                       " point(s); at least 2 are needed");
    if (!manifolds[m].allFinite())
      throw UsageError("MFTMA: manifold " + std::to_string(m) + " contains NaN or infinite values");
  }
}

}  // namespace

double center_cost(const MatrixXd& X, const MatrixXd& V, MatrixXd* gradient) {
  const MatrixXd C = X * X.transpose();
  const MatrixXd c = X * V;
  const VectorXd c0 = C.diagonal() - c.rowwise().squaredNorm();
  const MatrixXd D = C - c * c.transpose();
  const MatrixXd W = c0 * c0.transpose();
  const double cost = 0.5 * (D.array().square() / W.array()).sum();
  if (gradient != nullptr) {
    // dF/dc = −2 (D/W) c + 2 diag((D²/W²) c0) c ; dF/dV = Xᵀ dF/dc.
    const MatrixXd A = (D.array() / W.array()).matrix();
    const VectorXd b = (D.array().square() / W.array().square()).matrix() * c0;
    const MatrixXd dc = -2.0 * A * c + 2.0 * b.asDiagonal() * c;
    *gradient = X.transpose() * dc;
  }
  return cost;
}

MftmaResult mftma(const std::vector<MatrixXd>& manifolds, const MftmaOptions& options, Communicator* comm) {
  check_input(manifolds, options);
  const long P = static_cast<long>(manifolds.size()), N = manifolds.front().rows();
  // 1. Global centering; centers of the (uncentered) manifolds, as the reference does.
  VectorXd global = VectorXd::Zero(N);
  long total_points = 0;
  for (const auto& m : manifolds) global += m.rowwise().sum(), total_points += m.cols();
  global /= double(total_points);
  MatrixXd centers(N, P);
  for (long m = 0; m < P; ++m) centers.col(m) = manifolds[m].rowwise().mean();
  // A center on the mean of all centers (to rounding, relative to the other centers) would be
  // divided by ~0 in step 4 and give radii of 1e13 instead of an error.
  const MatrixXd offsets = centers.colwise() - centers.rowwise().mean();
  const double largest_offset = offsets.colwise().norm().maxCoeff();
  constexpr double kCenterTolerance = 1e-8;
  for (long m = 0; m < P; ++m)
    if (P > 2 && !(offsets.col(m).norm() > kCenterTolerance * largest_offset))
      throw UsageError("MFTMA: the center of manifold " + std::to_string(m) + " is at the mean of all centers");

  // 2–3. Center correlation and the low-rank center subspace.
  const CenterSubspace sub = remove_center_subspace(centers, options, comm);

  MftmaResult result;
  result.center_correlation = sub.center_correlation;
  result.residual_correlation = sub.residual;
  result.K = sub.K;

  // 4–5 are sharded as one flat list of (manifold, sample) pairs, m·n_t + k, cut into contiguous
  // blocks, one per rank: a rank then reduces only the manifolds its block touches (step 4's QR is,
  // after the center subspace, the largest fixed cost), and the anchors are summed into one array
  // so that every rank holds all of them in the same order (each slot is written by one rank).
  const int ranks = comm ? comm->size() : 1, rank = comm ? comm->rank() : 0;
  const long pairs = P * long(options.n_t);
  const long first = pairs * rank / ranks, last = pairs * (rank + 1) / ranks;  // [first, last)

  // 4. Per-manifold inputs sD1 (D+1 × M): the center-subspace-free points relative to their center,
  // divided by the center's norm, reduced to at most M coordinates, with a constant 1 appended.
  // The centers are checked for every manifold on every rank (cheap), so all ranks agree on errors.
  const auto project_out = [&](MatrixXd X) {
    X.colwise() -= global;
    if (sub.K > 0) X -= sub.V * (sub.V.transpose() * X);
    return X;
  };
  const MatrixXd reduced_centers = project_out(centers);
  const double largest_norm = reduced_centers.colwise().norm().maxCoeff();
  for (long m = 0; m < P; ++m)
    if (!(reduced_centers.col(m).norm() > kCenterTolerance * largest_norm))
      throw UsageError("MFTMA: manifold " + std::to_string(m) +
                       "'s center vanishes once the center subspace is removed (its center is at the global mean)");
  std::vector<MatrixXd> sd1(static_cast<std::size_t>(P));
  std::vector<long> offset(static_cast<std::size_t>(P) + 1, 0);
  for (long m = 0; m < P; ++m) {
    const long D1 = std::min(N, long(manifolds[m].cols())) + 1;
    offset[m + 1] = offset[m] + long(options.n_t) * D1;
    if (last <= m * options.n_t || (m + 1) * options.n_t <= first) continue;  // not this rank's
    const MatrixXd Xr = project_out(manifolds[m]);
    const VectorXd center = Xr.rowwise().mean();
    MatrixXd S = (Xr.colwise() - center) / center.norm();
    if (S.rows() > S.cols()) S = orthonormal_q(S).transpose() * S;
    sd1[m].resize(S.rows() + 1, S.cols());
    sd1[m].topRows(S.rows()) = S;
    sd1[m].bottomRows(1).setOnes();
  }

  // 5. Anchors for this rank's (manifold, sample) pairs.
  std::vector<double> anchors(static_cast<std::size_t>(offset[P]), 0.0), ts(anchors.size(), 0.0);
  for (long m = first / std::max(options.n_t, 1); m < P && m * options.n_t < last; ++m) {
    const MatrixXd& S = sd1[m];
    const long D1 = S.rows(), D = D1 - 1;
    const Nnls nnls(S);
    for (int k = 0; k < options.n_t; ++k) {
      const long pair = m * options.n_t + k;
      if (pair < first || pair >= last) continue;
      RandomStream stream(options.seed, {stream_tag("mftma-t"), std::uint64_t(m), std::uint64_t(k)});
      VectorXd t(D1);
      for (long i = 0; i < D1; ++i) t(i) = stream.normal();
      long best = 0;
      (S.topRows(D).transpose() * t.head(D)).maxCoeff(&best);
      VectorXd s = S.col(best);
      if (t.dot(s) + options.kappa >= 0) {
        const NnlsResult r = nnls.solve(t);
        const VectorXd Sa = S * r.a;
        const double weight = r.a.sum();
        if (Sa.norm() >= 1e-8 && weight > 0) s = Sa / weight;
      }
      double* out = anchors.data() + offset[m] + long(k) * D1;
      double* tout = ts.data() + offset[m] + long(k) * D1;
      for (long i = 0; i < D1; ++i) out[i] = s(i), tout[i] = t(i);
    }
  }
  if (comm && comm->size() > 1) {
    comm->allreduce_sum(anchors.data(), anchors.size());
    comm->allreduce_sum(ts.data(), ts.size());
  }

  // 6. Capacity, radius, dimension per manifold; 7. summaries.
  double inverse_capacity = 0;
  for (long m = 0; m < P; ++m) {
    const long n = options.n_t, D1 = (offset[m + 1] - offset[m]) / n, D = D1 - 1;
    const Eigen::Map<const MatrixXd> s_all(anchors.data() + offset[m], D1, n);
    const Eigen::Map<const MatrixXd> t_all(ts.data() + offset[m], D1, n);
    double slam = 0;
    for (long k = 0; k < n; ++k) {
      const double proj = std::max(t_all.col(k).dot(s_all.col(k)) + options.kappa, 0.0);
      const double s_sq = s_all.col(k).squaredNorm();
      if (s_sq > 0) slam += proj * proj / s_sq;
    }
    const double capacity = slam > 0 ? 1.0 / (slam / double(n)) : std::numeric_limits<double>::infinity();
    const VectorXd mean_s = s_all.rowwise().mean();
    double spread = 0, cosines = 0;
    for (long k = 0; k < n; ++k) {
      const VectorXd ds = (s_all.col(k).head(D) - mean_s.head(D)) / s_all(D, k);
      spread += ds.squaredNorm();
      const VectorXd th = t_all.col(k).head(D).normalized();
      const VectorXd sh = s_all.col(k).head(D) / std::sqrt(s_all.col(k).head(D).squaredNorm() + 1e-12);
      cosines += th.dot(sh);
    }
    result.capacity_per_manifold.push_back(capacity);
    result.radius_per_manifold.push_back(std::sqrt(spread / double(n)));
    result.dimension_per_manifold.push_back(double(D) * std::pow(cosines / double(n), 2));
    inverse_capacity += 1.0 / capacity;
  }
  result.capacity = double(P) / inverse_capacity;
  for (long m = 0; m < P; ++m) {
    result.radius += result.radius_per_manifold[m] / double(P);
    result.dimension += result.dimension_per_manifold[m] / double(P);
  }
  return result;
}

}  // namespace grokscope
