#pragma once
// Kernel comparisons and summaries (metrics.md §1) on square kernels held as torch tensors
// (float32 or float64, CPU). The comparisons stream over the two kernels with double accumulators
// and allocate nothing kernel-sized: a 12 032² EMNIST kernel is 580 MB in float32.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace grokscope {

// Fort et al. (2020) distance S = 1 − ⟨K1,K2⟩_F / (‖K1‖_F ‖K2‖_F): scale-free, in [0, 1] for PSD kernels.
double kernel_distance(const torch::Tensor& a, const torch::Tensor& b);
// ‖Kt − K0‖_F / ‖K0‖_F.
double relative_change(const torch::Tensor& current, const torch::Tensor& initial);
// Centered kernel–target alignment (Kumar et al. 2024): ⟨HKH, HYYᵀH⟩_F / (‖HKH‖_F ‖HYYᵀH‖_F), H the
// centering matrix, Y one-hot from `labels`. NaN (with a reason in `why`) when the labels hold a
// single class: YYᵀ then centers to zero and the alignment is undefined.
double centered_alignment(const torch::Tensor& kernel, const std::vector<std::int64_t>& labels,
                          std::int64_t classes, std::string* why = nullptr);
// Eigenvalues in descending order (at most `count`; symmetric kernel) and the effective rank
// (Σλ)²/Σλ² (negative round-off eigenvalues clipped to 0).
std::vector<double> top_eigenvalues(const torch::Tensor& kernel, int count);
double effective_rank(const torch::Tensor& kernel);
// The traced kernel: the n×n mean over logits of the diagonal C×C blocks of an (nC)×(nC) kernel
// whose rows are sample-major, logit-minor (neural-tangents' convention).
torch::Tensor traced_kernel(const torch::Tensor& full, std::int64_t classes);
// Pairwise distances S(K_i, K_j) over a sequence of kernels (e.g. all checkpoints): k × k.
torch::Tensor pairwise_distances(const std::vector<torch::Tensor>& kernels);

}  // namespace grokscope
