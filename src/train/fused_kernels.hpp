#pragma once
// The element-wise loops of the fused MLP step (fused_mlp.cpp), kept apart so that they are
// compiled with -fno-math-errno (sqrt without errno is what lets them vectorize) and cloned per
// instruction set (AVX-512, AVX2, baseline x86-64; picked at load time). Every clone does the same
// IEEE operations in the same order per element — no FMA contraction, no reassociation — so the
// numbers do not depend on the machine's instruction set.
#include <cstddef>

namespace grokscope::fused {

// One Adam(W) update of n elements, LibTorch 1.13's formula: with decoupled decay p *= decay
// (AdamW) or the L2 term g += l2 · p (Adam), then m = b1 m + (1-b1) g, v = b2 v + (1-b2) g²,
// p -= step_size · m / (sqrt(v) / sqrt_bias2 + eps).
template <typename T>
struct AdamScalars {
  T step_size, sqrt_bias2, eps, b1, one_minus_b1, b2, one_minus_b2;
  T decay, l2;  // decay: 1 - lr·wd (AdamW); l2: wd (Adam)
  bool adamw, decays;
};
void adam_update(float* p, float* m, float* v, const float* g, std::size_t n, const AdamScalars<float>& s);
void adam_update(double* p, double* m, double* v, const double* g, std::size_t n, const AdamScalars<double>& s);

// a = max(z, 0); d = z > 0 ? d : 0; acc += x.
void relu(const float* z, float* a, std::size_t n);
void relu(const double* z, double* a, std::size_t n);
void relu_backward(float* d, const float* z, std::size_t n);
void relu_backward(double* d, const double* z, std::size_t n);
void add_to(float* acc, const float* x, std::size_t n);
void add_to(double* acc, const double* x, std::size_t n);

}  // namespace grokscope::fused
