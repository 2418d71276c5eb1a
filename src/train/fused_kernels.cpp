#include "fused_kernels.hpp"

#include <cmath>

// One clone per instruction set, chosen by the loader (GCC/Clang on x86-64); elsewhere one build.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GROKSCOPE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GROKSCOPE_CLONES
#endif

namespace grokscope::fused {
namespace {

template <typename T>
inline __attribute__((always_inline)) void adam_body(T* __restrict p, T* __restrict m, T* __restrict v,
                                                     const T* __restrict g, std::size_t n, const AdamScalars<T>& s) {
  const T step_size = s.step_size, sqrt_bias2 = s.sqrt_bias2, eps = s.eps;
  const T b1 = s.b1, c1 = s.one_minus_b1, b2 = s.b2, c2 = s.one_minus_b2, decay = s.decay, l2 = s.l2;
  // One loop per case: no branch inside, so each vectorizes.
  if (s.decays && s.adamw) {
    for (std::size_t i = 0; i < n; ++i) {
      const T gi = g[i];
      const T pi = p[i] * decay;
      const T mi = b1 * m[i] + c1 * gi;
      const T vi = b2 * v[i] + c2 * gi * gi;
      m[i] = mi, v[i] = vi;
      p[i] = pi - step_size * mi / (std::sqrt(vi) / sqrt_bias2 + eps);
    }
  } else if (s.decays) {
    for (std::size_t i = 0; i < n; ++i) {
      const T gi = g[i] + l2 * p[i];
      const T mi = b1 * m[i] + c1 * gi;
      const T vi = b2 * v[i] + c2 * gi * gi;
      m[i] = mi, v[i] = vi;
      p[i] -= step_size * mi / (std::sqrt(vi) / sqrt_bias2 + eps);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const T gi = g[i];
      const T mi = b1 * m[i] + c1 * gi;
      const T vi = b2 * v[i] + c2 * gi * gi;
      m[i] = mi, v[i] = vi;
      p[i] -= step_size * mi / (std::sqrt(vi) / sqrt_bias2 + eps);
    }
  }
}

template <typename T>
inline __attribute__((always_inline)) void relu_body(const T* __restrict z, T* __restrict a, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) a[i] = z[i] > T(0) ? z[i] : T(0);
}

template <typename T>
inline __attribute__((always_inline)) void relu_backward_body(T* __restrict d, const T* __restrict z, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) d[i] = z[i] > T(0) ? d[i] : T(0);
}

template <typename T>
inline __attribute__((always_inline)) void add_to_body(T* __restrict acc, const T* __restrict x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] += x[i];
}

}  // namespace

GROKSCOPE_CLONES void adam_update(float* p, float* m, float* v, const float* g, std::size_t n,
                                  const AdamScalars<float>& s) {
  adam_body(p, m, v, g, n, s);
}
GROKSCOPE_CLONES void adam_update(double* p, double* m, double* v, const double* g, std::size_t n,
                                  const AdamScalars<double>& s) {
  adam_body(p, m, v, g, n, s);
}
GROKSCOPE_CLONES void relu(const float* z, float* a, std::size_t n) { relu_body(z, a, n); }
GROKSCOPE_CLONES void relu(const double* z, double* a, std::size_t n) { relu_body(z, a, n); }
GROKSCOPE_CLONES void relu_backward(float* d, const float* z, std::size_t n) { relu_backward_body(d, z, n); }
GROKSCOPE_CLONES void relu_backward(double* d, const double* z, std::size_t n) { relu_backward_body(d, z, n); }
GROKSCOPE_CLONES void add_to(float* acc, const float* x, std::size_t n) { add_to_body(acc, x, n); }
GROKSCOPE_CLONES void add_to(double* acc, const double* x, std::size_t n) { add_to_body(acc, x, n); }

}  // namespace grokscope::fused
