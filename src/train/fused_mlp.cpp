#include "grokscope/train/fused_mlp.hpp"

#include <cmath>

#include "grokscope/core/config.hpp"
#include "grokscope/core/error.hpp"

// The Fortran BLAS interface of the libblas.so.3 that LibTorch itself links (OpenBLAS here).
extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
            const float* beta, float* c, const int* ldc);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc);
}

namespace grokscope {
namespace {

// Row-major C(M×N) = alpha · op(A)(M×K) · op(B)(K×N) + beta · C, through the column-major BLAS
// (a row-major matrix is its transpose in column-major, so swap the operands).
template <typename T>
void gemm(bool trans_a, bool trans_b, int m, int n, int k, T alpha, const T* a, int lda, const T* b,
          int ldb, T beta, T* c, int ldc) {
  const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
  if constexpr (std::is_same_v<T, float>) sgemm_(&tb, &ta, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
  else dgemm_(&tb, &ta, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
}

}  // namespace

struct FusedMlpStep::Impl {
  virtual ~Impl() = default;
  virtual double step(const torch::Tensor& x, const torch::Tensor& y, const std::int64_t* index,
                      std::int64_t batch) = 0;
};

namespace {

template <typename T>
struct TypedStep : FusedMlpStep::Impl {
  struct Layer {
    torch::Tensor weight, bias;     // the model's parameters (out × in, out)
    torch::Tensor exp_avg_w, exp_avg_sq_w, exp_avg_b, exp_avg_sq_b;  // the optimizer's moments
    torch::optim::OptimizerParamState* state_w = nullptr;
    torch::optim::OptimizerParamState* state_b = nullptr;
    int in = 0, out = 0;
    std::vector<T> z, a, grad_w, grad_b;  // pre-activations, activations, gradients
  };
  std::vector<Layer> layers;
  std::vector<T> input, delta, back;
  std::vector<std::int64_t> labels;
  torch::optim::Optimizer& optimizer;
  bool adamw;
  bool relu;
  bool mse;
  double output_scale;
  std::int64_t classes;

  TypedStep(MlpImpl& model, torch::optim::Optimizer& opt, const Config& c)
      : optimizer(opt),
        adamw(c.text("train.optimizer") == "adamw"),
        relu(c.text("model.activation") == "relu"),
        mse(c.text("train.loss") == "mse"),
        output_scale(c.number("model.output_scale")),
        classes(model.options().outputs) {
    for (const auto& linear : model.linears()) {
      Layer l;
      l.weight = linear->weight;
      l.bias = linear->bias;
      l.out = static_cast<int>(l.weight.size(0));
      l.in = static_cast<int>(l.weight.size(1));
      l.grad_w.resize(static_cast<std::size_t>(l.out) * l.in);
      l.grad_b.resize(static_cast<std::size_t>(l.out));
      layers.push_back(std::move(l));
    }
    for (auto& l : layers) {
      l.state_w = &moments(l.weight, l.exp_avg_w, l.exp_avg_sq_w);
      l.state_b = &moments(l.bias, l.exp_avg_b, l.exp_avg_sq_b);
    }
  }

  // The optimizer's state entry of `p` (created as LibTorch would on its first step), with its
  // moment tensors bound to `m` and `v`.
  torch::optim::OptimizerParamState& moments(const torch::Tensor& p, torch::Tensor& m, torch::Tensor& v) {
    auto& state = optimizer.state();
    const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
    auto it = state.find(key);
    if (it == state.end()) {
      std::unique_ptr<torch::optim::OptimizerParamState> fresh;
      if (adamw) {
        auto s = std::make_unique<torch::optim::AdamWParamState>();
        s->step(0);
        s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh = std::move(s);
      } else {
        auto s = std::make_unique<torch::optim::AdamParamState>();
        s->step(0);
        s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh = std::move(s);
      }
      it = state.emplace(key, std::move(fresh)).first;
    }
    if (adamw) {
      auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
      m = s.exp_avg();
      v = s.exp_avg_sq();
    } else {
      auto& s = static_cast<torch::optim::AdamParamState&>(*it->second);
      m = s.exp_avg();
      v = s.exp_avg_sq();
    }
    return *it->second;
  }

  std::int64_t advance_step(torch::optim::OptimizerParamState& s) {
    if (adamw) {
      auto& a = static_cast<torch::optim::AdamWParamState&>(s);
      a.step(a.step() + 1);
      return a.step();
    }
    auto& a = static_cast<torch::optim::AdamParamState&>(s);
    a.step(a.step() + 1);
    return a.step();
  }

  // The update of LibTorch 1.13's AdamW / Adam, element by element.
  void update(const torch::Tensor& param, torch::Tensor& m_t, torch::Tensor& v_t, const std::vector<T>& grad,
              torch::optim::OptimizerParamState& state, const torch::optim::OptimizerOptions& options) {
    const std::int64_t step = advance_step(state);
    double lr = 0, beta1 = 0, beta2 = 0, eps = 0, wd = 0;
    if (adamw) {
      const auto& o = static_cast<const torch::optim::AdamWOptions&>(options);
      lr = o.lr(), beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas()), eps = o.eps(), wd = o.weight_decay();
    } else {
      const auto& o = static_cast<const torch::optim::AdamOptions&>(options);
      lr = o.lr(), beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas()), eps = o.eps(), wd = o.weight_decay();
    }
    const double bias1 = 1 - std::pow(beta1, double(step)), bias2 = 1 - std::pow(beta2, double(step));
    const T step_size = T(lr / bias1), sqrt_bias2 = T(std::sqrt(bias2));
    const T decay = T(1 - lr * wd), b1 = T(beta1), b2 = T(beta2), one_b1 = T(1 - beta1), one_b2 = T(1 - beta2);
    const T e = T(eps), l2 = T(wd);
    T* p = param.data_ptr<T>();
    T* m = m_t.data_ptr<T>();
    T* v = v_t.data_ptr<T>();
    const std::size_t n = grad.size();
    for (std::size_t i = 0; i < n; ++i) {
      T g = grad[i];
      if (adamw) p[i] *= decay;
      else g += l2 * p[i];  // Adam's L2 penalty enters the gradient
      m[i] = b1 * m[i] + one_b1 * g;
      v[i] = b2 * v[i] + one_b2 * g * g;
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) / sqrt_bias2 + e);
    }
  }

  double step(const torch::Tensor& x, const torch::Tensor& y, const std::int64_t* index,
              std::int64_t batch_size) override {
    const int batch = static_cast<int>(batch_size);
    const int inputs = layers.front().in;
    input.resize(static_cast<std::size_t>(batch) * inputs);
    const T* xs = x.data_ptr<T>();
    for (int r = 0; r < batch; ++r) std::copy_n(xs + index[r] * inputs, inputs, input.data() + std::size_t(r) * inputs);
    const std::int64_t* all_labels = y.data_ptr<std::int64_t>();
    labels.resize(static_cast<std::size_t>(batch));
    for (int r = 0; r < batch; ++r) labels[r] = all_labels[index[r]];

    // Forward: z = a W^T + b, a = phi(z).
    const T* a_prev = input.data();
    for (std::size_t li = 0; li < layers.size(); ++li) {
      Layer& l = layers[li];
      l.z.resize(std::size_t(batch) * l.out);
      gemm<T>(false, true, batch, l.out, l.in, T(1), a_prev, l.in, l.weight.template data_ptr<T>(), l.in, T(0), l.z.data(), l.out);
      const T* b = l.bias.template data_ptr<T>();
      const bool last = li + 1 == layers.size();
      if (!last) l.a.resize(l.z.size());
      for (int r = 0; r < batch; ++r)
        for (int j = 0; j < l.out; ++j) {
          T& z = l.z[std::size_t(r) * l.out + j];
          z += b[j];
          if (!last) l.a[std::size_t(r) * l.out + j] = relu ? (z > T(0) ? z : T(0)) : std::tanh(z);
        }
      a_prev = l.a.data();
    }

    // Loss and its gradient with respect to the last pre-activation.
    Layer& top = layers.back();
    delta.resize(top.z.size());
    const T s = T(output_scale);
    double loss = 0;
    const int C = top.out;
    for (int r = 0; r < batch; ++r) {
      const T* z = top.z.data() + std::size_t(r) * C;
      T* d = delta.data() + std::size_t(r) * C;
      if (mse) {
        const T scale = T(2.0 / (double(batch) * C)) * s;
        for (int c = 0; c < C; ++c) {
          const T diff = s * z[c] - (labels[r] == c ? T(1) : T(0));
          loss += double(diff) * double(diff);
          d[c] = scale * diff;
        }
      } else {
        T zmax = s * z[0];
        for (int c = 1; c < C; ++c) zmax = std::max(zmax, s * z[c]);
        double sum = 0;
        for (int c = 0; c < C; ++c) sum += std::exp(double(s * z[c] - zmax));
        loss += std::log(sum) - double(s * z[labels[r]] - zmax);
        const T scale = s / T(batch);
        for (int c = 0; c < C; ++c)
          d[c] = scale * (T(std::exp(double(s * z[c] - zmax)) / sum) - (labels[r] == c ? T(1) : T(0)));
      }
    }
    loss /= mse ? double(batch) * C : double(batch);

    // Backward: grad W = delta^T a_prev, grad b = column sums, delta_prev = (delta W) * phi'(z_prev).
    for (std::size_t li = layers.size(); li-- > 0;) {
      Layer& l = layers[li];
      const T* a_in = li == 0 ? input.data() : layers[li - 1].a.data();
      gemm<T>(true, false, l.out, l.in, batch, T(1), delta.data(), l.out, a_in, l.in, T(0), l.grad_w.data(), l.in);
      std::fill(l.grad_b.begin(), l.grad_b.end(), T(0));
      for (int r = 0; r < batch; ++r)
        for (int j = 0; j < l.out; ++j) l.grad_b[j] += delta[std::size_t(r) * l.out + j];
      if (li == 0) break;
      back.resize(std::size_t(batch) * l.in);
      gemm<T>(false, false, batch, l.in, l.out, T(1), delta.data(), l.out, l.weight.template data_ptr<T>(), l.in, T(0),
              back.data(), l.in);
      const Layer& below = layers[li - 1];
      for (std::size_t i = 0; i < back.size(); ++i)
        back[i] *= relu ? (below.z[i] > T(0) ? T(1) : T(0)) : T(1) - below.a[i] * below.a[i];
      delta.swap(back);
    }

    // Update, with the optimizer's own options and state.
    const auto& options = optimizer.param_groups().front().options();
    torch::NoGradGuard no_grad;
    for (auto& l : layers) {
      update(l.weight, l.exp_avg_w, l.exp_avg_sq_w, l.grad_w, *l.state_w, options);
      update(l.bias, l.exp_avg_b, l.exp_avg_sq_b, l.grad_b, *l.state_b, options);
    }
    return loss;
  }
};

}  // namespace

std::string FusedMlpStep::unsupported_reason(const Network& model, const Config& c) {
  const auto* mlp = dynamic_cast<const MlpImpl*>(&model);
  if (mlp == nullptr) return "not an MLP";
  if (mlp->options().parameterization != "standard") return "NTK parameterization";
  const std::string act = c.text("model.activation");
  if (act != "relu" && act != "tanh") return "activation " + act;
  const std::string opt = c.text("train.optimizer");
  if (opt != "adamw" && opt != "adam") return "optimizer " + opt;
  for (const auto& p : model.parameters())
    if (!p.is_contiguous() || !p.device().is_cpu()) return "parameters not contiguous on the CPU";
  return {};
}

FusedMlpStep::FusedMlpStep(MlpImpl& model, torch::optim::Optimizer& optimizer, const Config& config) {
  const std::string why = unsupported_reason(model, config);
  if (!why.empty()) throw UsageError("the fused MLP step does not support this run: " + why);
  if (model.parameters().front().scalar_type() == torch::kFloat64)
    impl_ = std::make_unique<TypedStep<double>>(model, optimizer, config);
  else
    impl_ = std::make_unique<TypedStep<float>>(model, optimizer, config);
}

FusedMlpStep::~FusedMlpStep() = default;

double FusedMlpStep::step(const torch::Tensor& x, const torch::Tensor& y, const std::int64_t* index,
                          std::int64_t batch) {
  return impl_->step(x, y, index, batch);
}

}  // namespace grokscope
