#pragma once
// The empirical NTK over a probe set (metrics.md §1): the full (nC)×(nC) block kernel, rows
// sample-major and logit-minor, of f = the logits including the output scale, over all parameters.
//
//  - structured_ntk: for MLPs, from per-layer activations A_l and per-logit backprop vectors G_l,
//      Θ = Σ_l (G_l G_lᵀ) ⊙ ((s_l² A_{l-1}A_{l-1}ᵀ + t_l² 11ᵀ) ⊗ 1_{C×C}),
//    a few GEMMs per layer and never the Jacobian;
//  - generic_ntk: any Network, by autograd rows of the Jacobian contracted as J Jᵀ (the oracle).
//
// Sharding: with a communicator of R ranks, rank r computes the sample blocks r, r+R, ... and the
// blocks are sum-reduced; every rank ends with the whole kernel. Each block is computed by the same
// operations whichever rank does it, and the reduction adds exact zeros, so the kernel does not
// depend on R (tested bit for bit at 1 and 2 ranks).
#include <torch/torch.h>

#include <string>

#include "grokscope/dist/communicator.hpp"
#include "grokscope/model/network.hpp"

namespace grokscope {

class MlpImpl;

// Samples per row block: sized so that one block's (block·C) × (nC) product stays near 16 MB.
std::int64_t ntk_block_samples(std::int64_t n, std::int64_t classes, std::int64_t element_size);

// `block_samples` 0 = ntk_block_samples(); the result does not depend on it.
torch::Tensor structured_ntk(MlpImpl& model, const torch::Tensor& x, Communicator* comm = nullptr,
                             std::int64_t block_samples = 0);
torch::Tensor generic_ntk(Network& model, const torch::Tensor& x, Communicator* comm = nullptr,
                          std::int64_t block_samples = 0);
// The structured path when the model is an MLP, else the generic one (logged once). `path`, when
// given, receives "structured" or "generic".
torch::Tensor empirical_ntk(Network& model, const torch::Tensor& x, Communicator* comm = nullptr,
                            std::string* path = nullptr);

}  // namespace grokscope
