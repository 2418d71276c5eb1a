// Training-step time of grokscope on the recipes' MLPs (the trainer's fused MLP step, and LibTorch
// autograd for reference), the step's GEMM floor, and the machine's sgemm rate under the same thread
// policy. Prints one JSON object per case.
// Run through bench/train_step.sh, which runs the PyTorch peer side by side and prints the ratios.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "grokscope/core/config.hpp"
#include "grokscope/core/runtime.hpp"
#include "grokscope/model/mlp.hpp"
#include "grokscope/train/fused_mlp.hpp"
#include "grokscope/train/step.hpp"
#include "grokscope/train/trainer.hpp"

using namespace grokscope;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One training step of the recipe's MLP, best of 8 rounds (this machine's timings drift by tens of
// percent over seconds): the trainer's step (the fused MLP step over the rank's threads, "grokscope")
// or LibTorch autograd ("grokscope_autograd", the trainer's path for CNNs and GPUs).
void bench_case(const char* name, const std::string& widths, std::int64_t classes, std::int64_t batch,
                const std::string& loss, int steps, int threads, bool fused_step) {
  Config c = Config::from_text("", "bench", {"model.widths=" + widths, "train.loss=" + loss});
  torch::manual_seed(0);
  auto model = make_network(c, InputShape{28, 28, classes});
  auto optimizer = make_optimizer(c, *model);
  std::unique_ptr<FusedMlpStep> fused;
  if (fused_step) fused = std::make_unique<FusedMlpStep>(dynamic_cast<MlpImpl&>(*model), *optimizer, c, threads);
  const torch::Tensor x = torch::rand({1000, 784});
  const torch::Tensor y = torch::randint(classes, {1000}, torch::kInt64);
  std::vector<std::int64_t> rows(1000);
  for (std::int64_t i = 0; i < 1000; ++i) rows[static_cast<std::size_t>(i)] = i;
  std::int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  auto round = [&] {
    const auto t = Clock::now();
    for (int i = 0; i < steps; ++i) {
      const std::int64_t s0 = (i * batch) % (1000 - batch);
      if (fused) fused->step(x, y, rows.data() + s0, batch);
      else train_step(*model, *optimizer, x.slice(0, s0, s0 + batch), y.slice(0, s0, s0 + batch), loss, classes);
    }
    return seconds_since(t) / steps;
  };
  round();
  double per_step = 1e30;
  for (int r = 0; r < 8; ++r) per_step = std::min(per_step, round());
  std::printf("{\"impl\": \"%s\", \"case\": \"%s\", \"ms_per_step\": %.4f, \"gflops\": %.2f, \"params\": %lld}\n",
              fused ? "grokscope" : "grokscope_autograd", name, per_step * 1e3,
              6.0 * double(params) * double(batch) / per_step / 1e9, static_cast<long long>(params));
}

// The step's GEMM floor: only the matrix products a dense MLP step cannot avoid, at their shapes,
// through the same BLAS — per layer the forward product (B×in · in×out) and the weight gradient
// (out×B · B×in), and for every layer but the first (the input needs no gradient) the gradient of
// its input (B×out · out×in). No implementation that calls this BLAS for them can take less per
// step, so peer time / floor bounds the speed-up anyone can reach over the peer here.
void bench_gemm_floor(const char* name, std::vector<std::int64_t> widths, std::int64_t batch, int steps) {
  std::vector<torch::Tensor> acts, weights, grads_out, grads_w, grads_in;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    const std::int64_t in = widths[l], out = widths[l + 1];
    acts.push_back(torch::rand({batch, in}));
    weights.push_back(torch::rand({out, in}));
    grads_out.push_back(torch::rand({batch, out}));
    grads_w.push_back(torch::empty({out, in}));
    grads_in.push_back(torch::empty({batch, in}));
  }
  std::vector<torch::Tensor> outs;
  for (std::size_t l = 0; l < weights.size(); ++l) outs.push_back(torch::empty({batch, widths[l + 1]}));
  auto round = [&] {
    const auto t = Clock::now();
    for (int i = 0; i < steps; ++i)
      for (std::size_t l = 0; l < weights.size(); ++l) {
        torch::mm_out(outs[l], acts[l], weights[l].t());
        torch::mm_out(grads_w[l], grads_out[l].t(), acts[l]);
        if (l > 0) torch::mm_out(grads_in[l], grads_out[l], weights[l]);
      }
    return seconds_since(t) / steps;
  };
  round();
  double per_step = 1e30;
  for (int r = 0; r < 8; ++r) per_step = std::min(per_step, round());
  std::printf("{\"impl\": \"gemm_floor\", \"case\": \"%s\", \"ms_per_step\": %.4f}\n", name, per_step * 1e3);
}

// The machine's sgemm rate: the best over square sizes and rounds.
void bench_sgemm() {
  double best = 0;
  for (std::int64_t n : {256, 512, 1024, 2048}) {
    const torch::Tensor a = torch::rand({n, n}), b = torch::rand({n, n});
    torch::Tensor c = torch::mm(a, b);
    const int reps = static_cast<int>(std::max<std::int64_t>(2, (1LL << 31) / (n * n * n)));
    for (int round = 0; round < 5; ++round) {
      const auto t = Clock::now();
      for (int i = 0; i < reps; ++i) torch::mm_out(c, a, b);
      best = std::max(best, 2.0 * double(n * n * n) * reps / seconds_since(t) / 1e9);
    }
  }
  std::printf("{\"impl\": \"grokscope\", \"case\": \"sgemm\", \"gflops\": %.2f}\n", best);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::stoi(argv[1]) : threads_per_rank(0, 1);
  const int steps = argc > 2 ? std::stoi(argv[2]) : 500;
  apply_thread_policy(threads);
  std::printf("{\"impl\": \"grokscope\", \"case\": \"setup\", \"threads\": %d, \"blas\": \"%s\"}\n", threads,
              loaded_blas().name.c_str());
  bench_sgemm();
  const std::string only = argc > 3 ? argv[3] : "";  // "fused" or "autograd": that step alone (profiling)
  for (const bool fused : {true, false}) {
    if ((only == "fused" && !fused) || (only == "autograd" && fused)) continue;
    bench_case("omnigrok_mlp_b200", "[200, 200]", 10, 200, "mse", steps, threads, fused);
    bench_case("emnist_mlp_b128", "[128, 512, 128]", 47, 128, "cross_entropy", steps, threads, fused);
  }
  if (!only.empty()) return 0;
  bench_gemm_floor("omnigrok_mlp_b200", {784, 200, 200, 10}, 200, steps);
  bench_gemm_floor("emnist_mlp_b128", {784, 128, 512, 128, 47}, 128, steps);
  return 0;
}
