// Training-step time of grokscope (LibTorch C++, the trainer's own train_step) on the recipes'
// MLPs, plus the machine's sgemm rate under the same thread policy. Prints one JSON object per case.
// Run through bench/train_step.sh, which runs the PyTorch peer side by side and prints the ratios.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "grokscope/core/config.hpp"
#include "grokscope/core/runtime.hpp"
#include "grokscope/train/step.hpp"
#include "grokscope/train/trainer.hpp"

using namespace grokscope;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The trainer's own step (train_step) on the recipe's MLP, best of 8 rounds: this machine's
// timings drift by tens of percent over seconds.
void bench_case(const char* name, const std::string& widths, std::int64_t classes, std::int64_t batch,
                const std::string& loss, int steps) {
  Config c = Config::from_text("", "bench", {"model.widths=" + widths, "train.loss=" + loss});
  torch::manual_seed(0);
  auto model = make_network(c, InputShape{28, 28, classes});
  auto optimizer = make_optimizer(c, *model);
  const torch::Tensor x = torch::rand({1000, 784});
  const torch::Tensor y = torch::randint(classes, {1000}, torch::kInt64);
  std::int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  auto round = [&] {
    const auto t = Clock::now();
    for (int i = 0; i < steps; ++i) {
      const std::int64_t s0 = (i * batch) % (1000 - batch);
      train_step(*model, *optimizer, x.slice(0, s0, s0 + batch), y.slice(0, s0, s0 + batch), loss, classes);
    }
    return seconds_since(t) / steps;
  };
  round();
  double per_step = 1e30;
  for (int r = 0; r < 8; ++r) per_step = std::min(per_step, round());
  std::printf("{\"impl\": \"grokscope\", \"case\": \"%s\", \"ms_per_step\": %.4f, \"gflops\": %.2f, \"params\": %lld}\n",
              name, per_step * 1e3, 6.0 * double(params) * double(batch) / per_step / 1e9, static_cast<long long>(params));
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
  bench_case("omnigrok_mlp_b200", "[200, 200]", 10, 200, "mse", steps);
  bench_case("emnist_mlp_b128", "[128, 512, 128]", 47, 128, "cross_entropy", steps);
  return 0;
}
