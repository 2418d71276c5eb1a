#pragma once
// Mean-field theoretic manifold analysis (MFTMA; Chung, Lee & Sompolinsky 2018, with the center
// correlations of Cohen et al. 2020), following metrics.md §2 and the public reference
// implementation's conventions so that numbers compare with published ones:
//  1. global centering; 2. center correlation ρ_c; 3. removal of the low-rank center subspace
//  (Riemannian conjugate gradient on the Stiefel manifold, restarts, the reference's choice of K);
//  4. per manifold: centered, normalized by the center norm, reduced to ≤ M coordinates, a constant
//  coordinate appended; 5. per Gaussian t: the anchor point from a non-negative least-squares
//  problem (κ = 0); 6. capacity, radius and dimension per manifold; 7. summaries.
//
// Every random draw comes from a keyed stream: (seed, manifold, sample) for the t vectors and
// (seed, K, restart) for the restarts, so results do not depend on how the work is split over ranks.
#include <Eigen/Dense>

#include <cstdint>
#include <vector>

#include "grokscope/dist/communicator.hpp"

namespace grokscope {

struct MftmaOptions {
  int n_t = 200;              // Gaussian samples per manifold
  double kappa = 0.0;         // margin; only 0 is supported (the per-t problem is then an NNLS)
  std::uint64_t seed = 0;
  int restarts = 10;          // random restarts per K of the center-subspace search
  int max_cg_iterations = 1000;
};

struct MftmaResult {
  double capacity = 0;            // harmonic mean over manifolds
  double radius = 0;              // arithmetic means
  double dimension = 0;
  double center_correlation = 0;  // ρ_c before the center subspace is removed
  double residual_correlation = 0;  // after removing the K* directions
  int K = 0;                      // dimension of the removed center subspace
  std::vector<double> capacity_per_manifold, radius_per_manifold, dimension_per_manifold;
};

// `manifolds[μ]` holds manifold μ's points as COLUMNS (N × M_μ). Throws UsageError on bad input
// (fewer than 2 manifolds, a manifold with fewer than 2 points, mismatched N, non-finite values,
// κ ≠ 0). With `comm`, the (manifold, sample) work is split over its ranks.
MftmaResult mftma(const std::vector<Eigen::MatrixXd>& manifolds, const MftmaOptions& options,
                  Communicator* comm = nullptr);

// Step 3 alone, for tests: the center-correlation cost ½ Σ (C − ccᵀ)²/(c0 c0ᵀ) at V and its
// Euclidean gradient, X the centers in a (P−1)-dimensional orthonormal basis (P × (P−1)).
double center_cost(const Eigen::MatrixXd& X, const Eigen::MatrixXd& V, Eigen::MatrixXd* gradient);

}  // namespace grokscope
