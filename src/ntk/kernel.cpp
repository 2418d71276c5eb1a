#include "grokscope/ntk/kernel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "grokscope/core/error.hpp"

namespace grokscope {
namespace {

void check_square(const torch::Tensor& k, const char* what) {
  if (k.dim() != 2 || k.size(0) != k.size(1) || !k.is_contiguous() || !k.device().is_cpu())
    throw UsageError(std::string(what) + ": expected a contiguous square CPU kernel");
}

// Σ a·b, Σ a², Σ b² in one pass with double accumulators.
struct Products {
  double ab = 0, aa = 0, bb = 0;
};
Products products(const torch::Tensor& a, const torch::Tensor& b) {
  check_square(a, "kernel comparison");
  check_square(b, "kernel comparison");
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type())
    throw UsageError("kernel comparison: kernels of different shapes or types");
  Products p;
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "kernel_products", [&] {
    const scalar_t* x = a.data_ptr<scalar_t>();
    const scalar_t* y = b.data_ptr<scalar_t>();
    const std::int64_t n = a.numel();
    for (std::int64_t i = 0; i < n; ++i) {
      const double u = x[i], v = y[i];
      p.ab += u * v;
      p.aa += u * u;
      p.bb += v * v;
    }
  });
  return p;
}

}  // namespace

double kernel_distance(const torch::Tensor& a, const torch::Tensor& b) {
  const Products p = products(a, b);
  if (p.aa == 0 || p.bb == 0) return std::numeric_limits<double>::quiet_NaN();
  return 1.0 - p.ab / (std::sqrt(p.aa) * std::sqrt(p.bb));
}

double relative_change(const torch::Tensor& current, const torch::Tensor& initial) {
  const Products p = products(current, initial);
  if (p.bb == 0) return std::numeric_limits<double>::quiet_NaN();
  // ‖a − b‖² = Σa² − 2Σab + Σb²; clipped at 0 against round-off when a ≈ b.
  return std::sqrt(std::max(0.0, p.aa - 2 * p.ab + p.bb)) / std::sqrt(p.bb);
}

double centered_alignment(const torch::Tensor& kernel, const std::vector<std::int64_t>& labels,
                          std::int64_t classes, std::string* why) {
  check_square(kernel, "centered_alignment");
  const std::int64_t n = kernel.size(0);
  if (static_cast<std::int64_t>(labels.size()) != n)
    throw UsageError("centered_alignment: " + std::to_string(labels.size()) + " labels for a kernel of " +
                     std::to_string(n) + " rows");
  const auto first = labels.front();
  if (std::all_of(labels.begin(), labels.end(), [&](auto l) { return l == first; })) {
    if (why) *why = "the probe set holds a single class: the centered target kernel is zero";
    return std::numeric_limits<double>::quiet_NaN();
  }
  const torch::Tensor k = kernel.to(torch::kFloat64);
  const torch::Tensor y = torch::one_hot(torch::tensor(labels, torch::kInt64), classes).to(torch::kFloat64);
  // H K H = K − row means − column means + grand mean.
  auto center = [](const torch::Tensor& m) {
    return m - m.mean(0, true) - m.mean(1, true) + m.mean();
  };
  const torch::Tensor kc = center(k), yc = center(torch::matmul(y, y.t()));
  const double num = (kc * yc).sum().item<double>();
  return num / (kc.norm().item<double>() * yc.norm().item<double>());
}

std::vector<double> top_eigenvalues(const torch::Tensor& kernel, int count) {
  check_square(kernel, "top_eigenvalues");
  const torch::Tensor values = torch::linalg::eigvalsh(kernel.to(torch::kFloat64), "L");  // ascending
  std::vector<double> out;
  for (std::int64_t i = values.size(0) - 1; i >= 0 && static_cast<int>(out.size()) < count; --i)
    out.push_back(values[i].item<double>());
  return out;
}

double effective_rank(const torch::Tensor& kernel) {
  check_square(kernel, "effective_rank");
  const torch::Tensor values = torch::linalg::eigvalsh(kernel.to(torch::kFloat64), "L").clamp_min(0);
  const double sum = values.sum().item<double>(), sq = values.pow(2).sum().item<double>();
  return sq > 0 ? sum * sum / sq : std::numeric_limits<double>::quiet_NaN();
}

torch::Tensor traced_kernel(const torch::Tensor& full, std::int64_t classes) {
  check_square(full, "traced_kernel");
  if (full.size(0) % classes != 0) throw UsageError("traced_kernel: rows are not a multiple of the classes");
  const std::int64_t n = full.size(0) / classes;
  // View as (n, C, n, C) and average the diagonal of each C×C block.
  return full.view({n, classes, n, classes}).diagonal(0, 1, 3).mean(-1).contiguous();
}

torch::Tensor pairwise_distances(const std::vector<torch::Tensor>& kernels) {
  const auto k = static_cast<std::int64_t>(kernels.size());
  torch::Tensor out = torch::zeros({k, k}, torch::kFloat64);
  auto a = out.accessor<double, 2>();
  for (std::int64_t i = 0; i < k; ++i)
    for (std::int64_t j = i + 1; j < k; ++j) a[i][j] = a[j][i] = kernel_distance(kernels[i], kernels[j]);
  return out;
}

}  // namespace grokscope
