#include "grokscope/ntk/ntk.hpp"

#include <algorithm>

#include "grokscope/core/error.hpp"
#include "grokscope/core/log.hpp"
#include "grokscope/model/mlp.hpp"

namespace grokscope {
namespace {

// Sum-reduces `t` (contiguous CPU) over the communicator, in place.
void reduce(torch::Tensor& t, Communicator* comm) {
  if (comm == nullptr || comm->size() == 1) return;
  if (t.scalar_type() == torch::kFloat64) comm->allreduce_sum(t.data_ptr<double>(), static_cast<std::size_t>(t.numel()));
  else if (t.scalar_type() == torch::kFloat32) comm->allreduce_sum(t.data_ptr<float>(), static_cast<std::size_t>(t.numel()));
  else throw UsageError("NTK: unsupported dtype for reduction");
}

bool mine(std::int64_t block, Communicator* comm) {
  return comm == nullptr || block % comm->size() == comm->rank();
}

// φ'(z) for any element-wise activation, by autograd of Σ φ(z).
torch::Tensor activation_derivative(const MlpImpl& model, const torch::Tensor& z) {
  torch::AutoGradMode enable(true);
  torch::Tensor leaf = z.detach().requires_grad_(true);
  torch::Tensor a = model.activate(leaf);
  return torch::autograd::grad({a.sum()}, {leaf})[0].detach();
}

}  // namespace

std::int64_t ntk_block_samples(std::int64_t n, std::int64_t classes, std::int64_t element_size) {
  const double target_bytes = 16.0 * 1024 * 1024;
  const double per_sample = double(classes) * double(n * classes) * double(element_size);
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(target_bytes / per_sample), 1, n);
}

torch::Tensor structured_ntk(MlpImpl& model, const torch::Tensor& x, Communicator* comm,
                             std::int64_t block_samples) {
  torch::NoGradGuard no_grad;
  const std::int64_t n = x.size(0), C = model.options().outputs;
  const std::size_t L = model.linears().size();
  // Forward: inputs of every layer (A_0 = x, A_l = φ(Z_l)) and φ'(Z_l) for the hidden layers.
  std::vector<torch::Tensor> inputs{x}, derivatives;
  for (std::size_t l = 0; l + 1 < L; ++l) {
    const torch::Tensor z = model.pre_activation(l, inputs.back());
    derivatives.push_back(activation_derivative(model, z));
    inputs.push_back(model.activate(z));
  }
  // Backprop vectors, one row per (sample, logit): G_L = output_scale · e_c; then
  // G_{l-1} = (G_l · s_l W_l) ⊙ φ'(Z_{l-1}). Kept as (n, C, width).
  std::vector<torch::Tensor> G(L);
  G[L - 1] = (torch::eye(C, x.options()) * model.options().output_scale).unsqueeze(0).expand({n, C, C}).contiguous();
  for (std::size_t l = L - 1; l > 0; --l)
    G[l - 1] = torch::matmul(G[l], model.linears()[l]->weight * model.weight_multiplier(l)) *
               derivatives[l - 1].unsqueeze(1);

  torch::Tensor theta = torch::zeros({n * C, n * C}, x.options());
  const std::int64_t block = block_samples > 0 ? block_samples : ntk_block_samples(n, C, x.element_size());
  for (std::int64_t b = 0, start = 0; start < n; ++b, start += block) {
    if (!mine(b, comm)) continue;
    const std::int64_t end = std::min(n, start + block), rows = end - start;
    torch::Tensor out = theta.narrow(0, start * C, rows * C).view({rows, C, n, C});
    for (std::size_t l = 0; l < L; ++l) {
      const double s = model.weight_multiplier(l), t = model.bias_multiplier(l);
      const torch::Tensor& a = inputs[l];
      // (s² A_b Aᵀ + t²) : rows × n, then the per-logit products G_b G_allᵀ : (rows·C) × (n·C).
      const torch::Tensor ka = torch::addmm(torch::full({1, 1}, t * t, x.options()), a.narrow(0, start, rows), a.t(),
                                            /*beta=*/1.0, /*alpha=*/s * s);
      const std::int64_t width = G[l].size(2);
      const torch::Tensor kg = torch::mm(G[l].narrow(0, start, rows).reshape({rows * C, width}),
                                         G[l].reshape({n * C, width}).t());
      out.add_(kg.view({rows, C, n, C}) * ka.view({rows, 1, n, 1}));
    }
  }
  reduce(theta, comm);
  return theta;
}

torch::Tensor generic_ntk(Network& model, const torch::Tensor& x, Communicator* comm,
                          std::int64_t block_samples) {
  const std::vector<torch::Tensor> params = model.parameters();
  std::int64_t P = 0;
  for (const auto& p : params) P += p.numel();
  torch::Tensor probe_out;
  {
    torch::NoGradGuard no_grad;
    probe_out = model.forward(x.narrow(0, 0, 1));
  }
  const std::int64_t n = x.size(0), C = probe_out.size(1);
  // Rows of the Jacobian, one backward pass per (sample, logit), sample blocks sharded.
  torch::Tensor jacobian = torch::zeros({n * C, P}, x.options());
  const std::int64_t block = block_samples > 0 ? block_samples : std::min<std::int64_t>(n, 16);
  torch::AutoGradMode enable(true);
  for (std::int64_t b = 0, start = 0; start < n; ++b, start += block) {
    if (!mine(b, comm)) continue;
    const std::int64_t end = std::min(n, start + block);
    const torch::Tensor out = model.forward(x.narrow(0, start, end - start));
    for (std::int64_t i = start; i < end; ++i)
      for (std::int64_t c = 0; c < C; ++c) {
        const auto grads = torch::autograd::grad({out[i - start][c]}, params, /*grad_outputs=*/{},
                                                 /*retain_graph=*/true, /*create_graph=*/false,
                                                 /*allow_unused=*/true);
        torch::Tensor row = jacobian[i * C + c];
        std::int64_t offset = 0;
        for (std::size_t k = 0; k < params.size(); ++k) {
          const std::int64_t count = params[k].numel();
          if (grads[k].defined()) row.narrow(0, offset, count).copy_(grads[k].reshape({-1}));
          offset += count;
        }
      }
  }
  reduce(jacobian, comm);
  torch::NoGradGuard no_grad;
  return torch::mm(jacobian, jacobian.t());
}

torch::Tensor empirical_ntk(Network& model, const torch::Tensor& x, Communicator* comm, std::string* path) {
  if (auto* mlp = dynamic_cast<MlpImpl*>(&model)) {
    if (path) *path = "structured";
    return structured_ntk(*mlp, x, comm);
  }
  static bool logged = false;
  if (!logged) {
    logging::info("NTK: the structured path supports MLPs only; using the generic autograd path");
    logged = true;
  }
  if (path) *path = "generic";
  return generic_ntk(model, x, comm);
}

}  // namespace grokscope
