#pragma once
// GLUE effective geometry (Chou et al., 2024–2026), metrics.md §3: per Gaussian sample t and
// random dichotomy y of the P manifolds, the anchor points s_μ of the minimal-norm correction of t
// that separates the manifolds (an NNLS in the dual), then capacity, effective radius, dimension,
// utility and the three alignments from the anchors' statistics.
//
// Conventions (the definition leaves them open):
//  - Sample k draws from RandomStream(seed, {stream_tag("glue"), k}): first t's N normals, then
//    y_μ = +1 when the top bit of next() is set, else −1, all P signs redrawn while they are equal
//    (a dichotomy with every manifold on one side asks for no separation).
//  - An inactive manifold (Σ_i λ_{μ,i} = 0) has a zero row in S and in S0 and S1 of that sample; its
//    center s⁰_μ is the mean anchor over the samples where it is active (averaging the zeros in
//    would shrink the center and give even a point-like manifold a nonzero axis).
//  - An axis s¹_μ with ‖s¹_μ‖² ≤ pinv_cutoff × max_ν ‖s_ν‖² (rounding level) counts as zero, so a
//    manifold that always anchors at the same point has R = 0 rather than noise.
//  - Cosines are taken in absolute value (|cos|); a pair is skipped in a sample where one vector is
//    zero, and the alignments average, over the pairs defined at least once, each pair's mean
//    over its samples. Pseudo-inverses drop eigenvalues ≤ pinv_cutoff × the largest.
//  - α = Ψ(1 + R⁻²)/D holds by algebra ((E[c]/E[a])(E[b]/E[c])(P/E[b]) = P/E[a]); `identity_error`
//    therefore measures rounding only, and is NaN where the right side is undefined (E[c] = 0: no
//    axes at all, when R = D = Ψ = 0).
//
// Sharding: samples are dealt over the ranks of `comm` in fixed blocks, and a rank's blocks over its
// `threads`; every draw comes from a stream keyed by (seed, sample) and each block is solved on its
// own, so the result does not depend on the number of ranks or threads (bit-exact).
#include <Eigen/Dense>

#include <cstdint>
#include <vector>

#include "grokscope/dist/communicator.hpp"

namespace grokscope {

struct GlueOptions {
  int n_t = 200;               // Gaussian samples (each with its own random dichotomy)
  std::uint64_t seed = 0;
  double pinv_cutoff = 1e-10;  // eigenvalues of the P × P Gram matrices pseudo-inverted that are
                               // at or below cutoff × the largest are treated as zero
  int threads = 1;             // this rank's threads for the per-sample projections
};

struct GlueResult {
  double capacity = 0;               // α = P / E[a]
  double radius = 0;                 // R = sqrt(E[c] / E[b − c])
  double dimension = 0;              // D = E[b] / P
  double utility = 0;                // Ψ = E[c] / E[a]
  double center_alignment = 0;       // mean_{μ≠ν} |cos(s⁰_μ, s⁰_ν)|
  double axis_alignment = 0;         // mean_{μ≠ν} E|cos(s¹_μ, s¹_ν)|
  double center_axis_alignment = 0;  // mean_{μ≠ν} E|cos(s⁰_μ, s¹_ν)|
  double identity_error = 0;         // |α − Ψ(1 + R⁻²)/D| / α
};

// `manifolds[μ]` holds manifold μ's points as COLUMNS (N × M_μ). Throws UsageError on bad input
// (fewer than 2 manifolds, a manifold with fewer than 2 points, mismatched N, non-finite values,
// n_t < 1, pinv_cutoff outside (0, 1)).
GlueResult glue(const std::vector<Eigen::MatrixXd>& manifolds, const GlueOptions& options,
                Communicator* comm = nullptr);

}  // namespace grokscope
