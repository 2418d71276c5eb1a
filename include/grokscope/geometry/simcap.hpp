#pragma once
// Simulated manifold capacity (metrics.md §4), the numerical check of the mean-field numbers:
// project all points to n dimensions with a random N × n matrix of unit columns, draw balanced
// random dichotomies of the P manifolds, and measure the fraction p(n) that is linearly separable
// with a bias by an exact test (an LP solved with COIN-OR CLP). Bisection on n finds the
// dimension N_c where p crosses ½ (interpolated); α_sim = P / N_c.
//
// Common random numbers: projection column j is the same draw for every n — N standard normals
// from RandomStream(seed, {stream_tag("simcap-projection"), j}), normalized to unit length — and
// dichotomy d is RandomStream(seed, {stream_tag("simcap-dichotomy"), d}) shuffling exactly
// ⌊P/2⌋ labels +1 and the rest −1. The n-dimensional projection is then the first n coordinates
// of the (n+1)-dimensional one, so each dichotomy's separability is monotone in n and so is p(n);
// bisection on integers is exact, and a dichotomy decided at one n is not solved again at another.
//
// Sharding: dichotomy d runs on rank d % size; the separable counts (integers held in doubles)
// are sum-reduced, so the result is bit-identical for any number of ranks.
#include <Eigen/Dense>
#include <cstdint>
#include <utility>
#include <vector>

#include "grokscope/dist/communicator.hpp"

namespace grokscope {

struct SimcapOptions {
  int dichotomies = 100;  // random balanced dichotomies per projection dimension
  std::uint64_t seed = 0;
};

struct SimcapResult {
  double capacity = 0;  // α_sim = P / N_c
  // N_c in [2, N]: the smallest integer n with p(n) ≥ ½, linearly interpolated on p between n − 1
  // and n. Clamped at the ends, which `curve` shows: p(2) ≥ ½ gives N_c = 2 (α_sim = P/2 is then a
  // lower bound of the crossing's α), p(N) < ½ gives N_c = N (α_sim = P/N is an upper bound: the
  // manifolds are not separable half the time even in the full space).
  double critical_dimension = 0;
  std::vector<std::pair<int, double>> curve;  // (n, p(n)) for every n evaluated, sorted by n
};

// Exact test: is there (w, b) with y_i (wᵀx_i + b) > 0 for all columns x_i of `points` (labels
// ±1)? Decided by an LP (maximize the margin t of y_i (wᵀx_i + b) ≥ t over the box |w_j| ≤ 1 on
// centered, rescaled points, rows added as they are violated) and both answers are checked in
// double precision before they are returned: "separable" by a (w, b) that separates every point,
// "not separable" by weights λ ≥ 0 on the two classes whose weighted means coincide (the convex
// hulls intersect). Both checks are relative to 1e-9 of the points' scale, so point sets whose
// hulls are closer than that count as touching. Throws UsageError on bad input and Error when CLP
// gives neither a proof nor a checkable certificate.
bool linearly_separable(const Eigen::MatrixXd& points, const std::vector<int>& labels);

// `manifolds[μ]` holds manifold μ's points as COLUMNS (N × M_μ; one point is fine). Throws
// UsageError on bad input (fewer than 2 manifolds, N < 2, an empty manifold, mismatched N,
// non-finite values, dichotomies < 1).
SimcapResult simulated_capacity(const std::vector<Eigen::MatrixXd>& manifolds,
                                const SimcapOptions& options, Communicator* comm = nullptr);

}  // namespace grokscope
