#include "grokscope/train/fused_mlp.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "grokscope/core/config.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/runtime.hpp"
#include "grokscope/core/thread_team.hpp"
#include "fused_kernels.hpp"

// The Fortran BLAS interface of the libblas.so.3 that LibTorch itself calls (OpenBLAS here).
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

// Row-major C(m×n) = alpha · op(A)(m×k) · op(B)(k×n) + beta · C through the column-major BLAS: a
// row-major matrix is its transpose in column-major, so the operands swap.
template <typename T>
void gemm(bool trans_a, bool trans_b, int m, int n, int k, T alpha, const T* a, int lda, const T* b, int ldb,
          T beta, T* c, int ldc) {
  if (m == 0 || n == 0) return;
  const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
  if constexpr (std::is_same_v<T, float>)
    sgemm_(&tb, &ta, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
  else
    dgemm_(&tb, &ta, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
}

enum class Activation { relu, tanh, gelu };
enum class Optimizer { adamw, adam, sgd };

// The scalars of one optimizer update, read from the optimizer's own options (so a loaded state's
// options are the ones used) and from the parameter's step count.
struct UpdateRule {
  Optimizer kind;
  double lr = 0, weight_decay = 0, beta1 = 0, beta2 = 0, eps = 0, momentum = 0, dampening = 0;
  bool nesterov = false;
};

UpdateRule rule_of(Optimizer kind, const torch::optim::OptimizerOptions& options) {
  UpdateRule r{kind};
  if (kind == Optimizer::adamw) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(options);
    if (o.amsgrad()) throw UsageError("the fused MLP step does not implement AMSGrad");
    r.lr = o.lr(), r.weight_decay = o.weight_decay(), r.eps = o.eps();
    r.beta1 = std::get<0>(o.betas()), r.beta2 = std::get<1>(o.betas());
  } else if (kind == Optimizer::adam) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(options);
    if (o.amsgrad()) throw UsageError("the fused MLP step does not implement AMSGrad");
    r.lr = o.lr(), r.weight_decay = o.weight_decay(), r.eps = o.eps();
    r.beta1 = std::get<0>(o.betas()), r.beta2 = std::get<1>(o.betas());
  } else {
    const auto& o = static_cast<const torch::optim::SGDOptions&>(options);
    r.lr = o.lr(), r.weight_decay = o.weight_decay(), r.momentum = o.momentum();
    r.dampening = o.dampening(), r.nesterov = o.nesterov();
  }
  return r;
}

// One parameter tensor with its optimizer state, as LibTorch 1.13's optimizers keep it (state keyed
// by the tensor's impl pointer, created on the parameter's first step).
template <typename T>
struct Parameter {
  torch::Tensor value;
  torch::Tensor first, second;  // Adam(W): exp_avg, exp_avg_sq; SGD: momentum_buffer (first)
  torch::optim::OptimizerParamState* state = nullptr;
  std::int64_t step = 0;       // Adam(W) step count after this step's increment
  bool fresh_buffer = false;   // SGD: the momentum buffer is created by this step

  // Called once per step on the calling thread, before the team runs: creates the state on the
  // first step and advances the step count, as LibTorch does.
  void begin_step(torch::optim::Optimizer& optimizer, const UpdateRule& rule) {
    auto& states = optimizer.state();
    const std::string key = c10::guts::to_string(value.unsafeGetTensorImpl());
    auto it = states.find(key);
    fresh_buffer = false;
    if (rule.kind == Optimizer::sgd) {
      if (rule.momentum == 0) return;
      if (it == states.end()) {
        auto s = std::make_unique<torch::optim::SGDParamState>();
        s->momentum_buffer(torch::empty_like(value, torch::MemoryFormat::Preserve));
        it = states.emplace(key, std::move(s)).first;
        fresh_buffer = true;
      }
      first = static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer();
      return;
    }
    if (it == states.end()) {
      auto zeros = [&] { return torch::zeros_like(value, torch::MemoryFormat::Preserve); };
      if (rule.kind == Optimizer::adamw) {
        auto s = std::make_unique<torch::optim::AdamWParamState>();
        s->step(0), s->exp_avg(zeros()), s->exp_avg_sq(zeros());
        it = states.emplace(key, std::move(s)).first;
      } else {
        auto s = std::make_unique<torch::optim::AdamParamState>();
        s->step(0), s->exp_avg(zeros()), s->exp_avg_sq(zeros());
        it = states.emplace(key, std::move(s)).first;
      }
    }
    if (rule.kind == Optimizer::adamw) {
      auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
      s.step(s.step() + 1);
      step = s.step(), first = s.exp_avg(), second = s.exp_avg_sq();
    } else {
      auto& s = static_cast<torch::optim::AdamParamState&>(*it->second);
      s.step(s.step() + 1);
      step = s.step(), first = s.exp_avg(), second = s.exp_avg_sq();
    }
  }

  // Updates elements [begin, end) from their gradient `grad` (indexed like the parameter), with
  // LibTorch 1.13's formulas element by element.
  void update(const UpdateRule& r, const T* grad, std::int64_t begin, std::int64_t end) const {
    T* p = value.data_ptr<T>();
    if (r.kind == Optimizer::sgd) {
      const T lr = T(r.lr), wd = T(r.weight_decay), mom = T(r.momentum), keep = T(1 - r.dampening);
      T* buf = r.momentum != 0 ? first.data_ptr<T>() : nullptr;
      for (std::int64_t i = begin; i < end; ++i) {
        T d = grad[i];
        if (r.weight_decay != 0) d += wd * p[i];
        if (buf != nullptr) {
          buf[i] = fresh_buffer ? d : mom * buf[i] + keep * d;
          d = r.nesterov ? d + mom * buf[i] : buf[i];
        }
        p[i] -= lr * d;
      }
      return;
    }
    const double bias1 = 1 - std::pow(r.beta1, double(step)), bias2 = 1 - std::pow(r.beta2, double(step));
    fused::AdamScalars<T> a;
    a.step_size = T(r.lr / bias1), a.sqrt_bias2 = T(std::sqrt(bias2)), a.eps = T(r.eps);
    a.b1 = T(r.beta1), a.b2 = T(r.beta2), a.one_minus_b1 = T(1 - r.beta1), a.one_minus_b2 = T(1 - r.beta2);
    a.decay = T(1 - r.lr * r.weight_decay), a.l2 = T(r.weight_decay);
    a.adamw = r.kind == Optimizer::adamw, a.decays = r.weight_decay != 0;
    fused::adam_update(p + begin, first.data_ptr<T>() + begin, second.data_ptr<T>() + begin, grad + begin,
                       static_cast<std::size_t>(end - begin), a);
  }
};

}  // namespace

struct FusedMlpStep::Impl {
  virtual ~Impl() = default;
  virtual double step(const torch::Tensor& x, const torch::Tensor& y, const std::int64_t* index,
                      std::int64_t batch) = 0;
};

namespace {

// The batch's rows, and each layer's output units, are cut into this many blocks whatever the team's
// size, one GEMM per block: OpenBLAS's result depends on a product's shape (its small-matrix kernels
// and edge cases sum in other orders), so shapes that depended on the team would make the numbers
// depend on the rank's core count. Teams of 1, 2 and 4 share the blocks evenly; a team larger than
// kBlocks leaves threads idle (a batch of 128-200 rows gains nothing from more).
constexpr int kBlocks = 4;

template <typename T>
class TypedStep final : public FusedMlpStep::Impl {
 public:
  TypedStep(MlpImpl& model, torch::optim::Optimizer& optimizer, const Config& c, int threads)
      : optimizer_(optimizer),
        team_(threads),
        activation_(c.text("model.activation") == "relu"   ? Activation::relu
                    : c.text("model.activation") == "tanh" ? Activation::tanh
                                                           : Activation::gelu),
        optimizer_kind_(c.text("train.optimizer") == "adamw" ? Optimizer::adamw
                        : c.text("train.optimizer") == "adam" ? Optimizer::adam
                                                              : Optimizer::sgd),
        mse_(c.text("train.loss") == "mse"),
        output_scale_(T(model.options().output_scale)),
        classes_(static_cast<int>(model.options().outputs)) {
    const auto& linears = model.linears();
    for (std::size_t l = 0; l < linears.size(); ++l) {
      Layer layer;
      layer.weight.value = linears[l]->weight;
      layer.bias.value = linears[l]->bias;
      layer.out = static_cast<int>(linears[l]->weight.size(0));
      layer.in = static_cast<int>(linears[l]->weight.size(1));
      layer.multiplier = T(model.weight_multiplier(l));
      layer.grad_w.resize(std::size_t(layer.out) * layer.in);
      layer.grad_b.resize(std::size_t(layer.out));
      layers_.push_back(std::move(layer));
    }
  }

  double step(const torch::Tensor& x, const torch::Tensor& y, const std::int64_t* index,
              std::int64_t batch_size) override {
    batch_ = static_cast<int>(batch_size);
    x_ = x.data_ptr<T>();
    y_ = y.data_ptr<std::int64_t>();
    index_ = index;
    resize_buffers();
    rule_ = rule_of(optimizer_kind_, optimizer_.param_groups().front().options());
    for (auto& l : layers_) {
      l.weight.begin_step(optimizer_, rule_);
      l.bias.begin_step(optimizer_, rule_);
    }
    torch::NoGradGuard no_grad;
    team_.run([this](int member) {
      const Range mine = share_of(kBlocks, team_.size(), member);
      for (int b = mine.begin; b < mine.end; ++b) rows_forward_and_backward(share_of(batch_, kBlocks, b));
      team_.barrier();  // every row's activations and deltas are in place
      for (auto& l : layers_)
        for (int b = mine.begin; b < mine.end; ++b) update_units(l, share_of(l.out, kBlocks, b));
    });
    double loss = 0;  // summed in row order: the same number whatever the team's size
    for (int r = 0; r < batch_; ++r) loss += row_loss_[std::size_t(r)];
    // Reported in the parameters' precision, as autograd's loss tensor would be: a float32 run
    // whose loss leaves float's range has diverged even though the double sum is finite.
    return static_cast<double>(static_cast<T>(loss / (mse_ ? double(batch_) * classes_ : double(batch_))));
  }

 private:
  struct Layer {
    Parameter<T> weight, bias;  // weight out × in, bias out
    int in = 0, out = 0;
    T multiplier = 1;           // s_l of the parameterization: z = s W a + b
    std::vector<T> z, a, delta; // batch × out: pre-activation, activation (hidden), dLoss/dz
    std::vector<T> grad_w, grad_b;
  };

  void resize_buffers() {
    input_.resize(std::size_t(batch_) * layers_.front().in);
    row_loss_.resize(std::size_t(batch_));
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      Layer& layer = layers_[l];
      const std::size_t n = std::size_t(batch_) * layer.out;
      layer.z.resize(n);
      layer.delta.resize(n);
      if (l + 1 < layers_.size()) layer.a.resize(n);
    }
  }

  // Phase 1, rows [rows.begin, rows.end): everything that is computed row by row.
  void rows_forward_and_backward(Range rows) {
    const int count = rows.end - rows.begin;
    if (count <= 0) return;
    const int inputs = layers_.front().in;
    for (int r = rows.begin; r < rows.end; ++r)
      std::copy_n(x_ + index_[r] * inputs, inputs, input_.data() + std::size_t(r) * inputs);

    // Forward: z = b + s · a W^T (the bias pre-filled, then one GEMM with beta = 1), a = phi(z).
    const T* a_prev = input_.data() + std::size_t(rows.begin) * inputs;
    for (std::size_t li = 0; li < layers_.size(); ++li) {
      Layer& l = layers_[li];
      T* z = l.z.data() + std::size_t(rows.begin) * l.out;
      const T* b = l.bias.value.template data_ptr<T>();
      for (int r = 0; r < count; ++r) std::copy_n(b, l.out, z + std::size_t(r) * l.out);
      gemm<T>(false, true, count, l.out, l.in, l.multiplier, a_prev, l.in, l.weight.value.template data_ptr<T>(), l.in,
              T(1), z, l.out);
      if (li + 1 == layers_.size()) break;
      T* a = l.a.data() + std::size_t(rows.begin) * l.out;
      activate(z, a, std::size_t(count) * l.out);
      a_prev = a;
    }
    loss_gradient(rows);

    // Backward through the rows: delta_{l-1} = (s_l · delta_l W_l) * phi'(z_{l-1}).
    for (std::size_t li = layers_.size() - 1; li > 0; --li) {
      const Layer& l = layers_[li];
      Layer& below = layers_[li - 1];
      T* d = below.delta.data() + std::size_t(rows.begin) * below.out;
      gemm<T>(false, false, count, l.in, l.out, l.multiplier, l.delta.data() + std::size_t(rows.begin) * l.out, l.out,
              l.weight.value.template data_ptr<T>(), l.in, T(0), d, l.in);
      const std::size_t offset = std::size_t(rows.begin) * below.out;
      activation_backward(d, below.z.data() + offset, below.a.data() + offset, std::size_t(count) * below.out);
    }
  }

  void activate(const T* z, T* a, std::size_t n) const {
    switch (activation_) {
      case Activation::relu:
        fused::relu(z, a, n);
        break;
      case Activation::tanh:
        for (std::size_t i = 0; i < n; ++i) a[i] = std::tanh(z[i]);
        break;
      case Activation::gelu:  // exact: z · Phi(z)
        for (std::size_t i = 0; i < n; ++i) a[i] = T(0.5) * z[i] * (T(1) + std::erf(z[i] * T(M_SQRT1_2)));
        break;
    }
  }

  // d *= phi'(z), with a = phi(z) at hand.
  void activation_backward(T* d, const T* z, const T* a, std::size_t n) const {
    switch (activation_) {
      case Activation::relu:
        fused::relu_backward(d, z, n);
        break;
      case Activation::tanh:
        for (std::size_t i = 0; i < n; ++i) d[i] *= T(1) - a[i] * a[i];
        break;
      case Activation::gelu: {  // Phi(z) + z · phi(z)
        const T inv_sqrt_2pi = T(0.3989422804014327);
        for (std::size_t i = 0; i < n; ++i)
          d[i] *= T(0.5) * (T(1) + std::erf(z[i] * T(M_SQRT1_2))) + z[i] * inv_sqrt_2pi * std::exp(T(-0.5) * z[i] * z[i]);
        break;
      }
    }
  }

  // Loss of each row and dLoss/dz of the logits z (the model outputs output_scale · z).
  void loss_gradient(Range rows) {
    Layer& top = layers_.back();
    const int C = classes_;
    const T s = output_scale_;
    for (int r = rows.begin; r < rows.end; ++r) {
      const T* z = top.z.data() + std::size_t(r) * C;
      T* d = top.delta.data() + std::size_t(r) * C;
      const std::int64_t label = y_[index_[r]];
      double loss = 0;
      if (mse_) {  // mean over batch × classes of (s z - onehot)^2
        const T scale = T(2.0 / (double(batch_) * C)) * s;
        for (int c = 0; c < C; ++c) {
          const T diff = s * z[c] - (label == c ? T(1) : T(0));
          loss += double(diff) * double(diff);
          d[c] = scale * diff;
        }
      } else {  // mean over the batch of logsumexp(s z) - s z_label
        T top_logit = s * z[0];
        for (int c = 1; c < C; ++c) top_logit = std::max(top_logit, s * z[c]);
        T sum = 0;
        for (int c = 0; c < C; ++c) sum += (d[c] = std::exp(s * z[c] - top_logit));
        loss = std::log(double(sum)) - double(s * z[label] - top_logit);
        const T scale = s / T(batch_), inv_sum = T(1) / sum;
        for (int c = 0; c < C; ++c) d[c] = scale * (d[c] * inv_sum - (label == c ? T(1) : T(0)));
      }
      row_loss_[std::size_t(r)] = loss;
    }
  }

  // Phase 2, output units [units.begin, units.end) of one layer: their weight and bias gradients
  // over the whole batch, then the optimizer update of those parameters.
  void update_units(Layer& l, Range units) {
    const int count = units.end - units.begin;
    if (count <= 0) return;
    const std::size_t li = static_cast<std::size_t>(&l - layers_.data());
    const T* a_in = li == 0 ? input_.data() : layers_[li - 1].a.data();
    // grad W[units] = s · delta[:, units]^T a_in
    gemm<T>(true, false, count, l.in, batch_, l.multiplier, l.delta.data() + units.begin, l.out, a_in, l.in, T(0),
            l.grad_w.data() + std::size_t(units.begin) * l.in, l.in);
    std::fill(l.grad_b.begin() + units.begin, l.grad_b.begin() + units.end, T(0));
    for (int r = 0; r < batch_; ++r)
      fused::add_to(l.grad_b.data() + units.begin, l.delta.data() + std::size_t(r) * l.out + units.begin,
                    static_cast<std::size_t>(count));
    l.weight.update(rule_, l.grad_w.data(), std::int64_t(units.begin) * l.in, std::int64_t(units.end) * l.in);
    l.bias.update(rule_, l.grad_b.data(), units.begin, units.end);
  }

  torch::optim::Optimizer& optimizer_;
  ThreadTeam team_;
  Activation activation_;
  Optimizer optimizer_kind_;
  bool mse_;
  T output_scale_;
  int classes_;
  std::vector<Layer> layers_;
  UpdateRule rule_{Optimizer::sgd};
  // The current step's inputs and row buffers.
  int batch_ = 0;
  const T* x_ = nullptr;
  const std::int64_t* y_ = nullptr;
  const std::int64_t* index_ = nullptr;
  std::vector<T> input_;         // batch × inputs: the gathered rows
  std::vector<double> row_loss_;
};

// Runs the BLAS single-threaded while a team of more than one thread splits the work by hand, and
// gives it the rank's cores back afterwards (for the checkpoint's NTK and geometry).
class SingleThreadedBlas {
 public:
  explicit SingleThreadedBlas(int team, int rank_threads) : restore_(team > 1 ? rank_threads : 0) {
    if (restore_ > 0) set_blas_threads(1);
  }
  ~SingleThreadedBlas() {
    if (restore_ > 0) set_blas_threads(restore_);
  }

 private:
  int restore_;
};

}  // namespace

std::string FusedMlpStep::unsupported_reason(const Network& model, const Config& c) {
  const auto* mlp = dynamic_cast<const MlpImpl*>(&model);
  if (mlp == nullptr) return "not an MLP";
  for (const auto& p : model.parameters()) {
    if (!p.device().is_cpu()) return "parameters not on the CPU";
    if (!p.is_contiguous()) return "parameters not contiguous";
    if (p.scalar_type() != torch::kFloat32 && p.scalar_type() != torch::kFloat64) return "dtype not float32/64";
  }
  const std::string loss = c.text("train.loss");
  if (loss != "mse" && loss != "cross_entropy") return "loss " + loss;
  return {};
}

FusedMlpStep::FusedMlpStep(MlpImpl& model, torch::optim::Optimizer& optimizer, const Config& config, int threads)
    : threads_(threads < 1 ? 1 : threads) {
  const std::string why = unsupported_reason(model, config);
  if (!why.empty()) throw UsageError("the fused MLP step does not cover this run: " + why);
  // Split by hand only where the BLAS can be made single-threaded; another BLAS keeps its own
  // threads and gets the whole step from one thread.
  team_ = blas_threads_settable() ? std::min(threads_, kBlocks) : 1;
  first_weight_ = model.linears().front()->weight;
  if (model.parameters().front().scalar_type() == torch::kFloat64)
    impl_ = std::make_unique<TypedStep<double>>(model, optimizer, config, team_);
  else
    impl_ = std::make_unique<TypedStep<float>>(model, optimizer, config, team_);
}

FusedMlpStep::~FusedMlpStep() = default;

double FusedMlpStep::step(const torch::Tensor& x, const torch::Tensor& y, const std::int64_t* index,
                          std::int64_t batch) {
  const torch::Tensor& first = first_weight_;
  if (!x.device().is_cpu() || !x.is_contiguous() || x.scalar_type() != first.scalar_type() || x.dim() != 2 ||
      x.size(1) != first.size(1) || y.scalar_type() != torch::kInt64 || !y.is_contiguous() || y.size(0) != x.size(0))
    throw UsageError("fused MLP step: x must be a contiguous CPU matrix of the parameters' dtype with one row per "
                     "label and one column per input, y contiguous int64");
  const SingleThreadedBlas blas(team_, threads_);
  return impl_->step(x, y, index, batch);
}

}  // namespace grokscope
