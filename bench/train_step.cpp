// Training-step time of grokscope (LibTorch C++, the trainer's own train_step) on the recipes'
// MLPs, plus the machine's sgemm rate under the same thread policy. Prints one JSON object per case.
// Run through bench/train_step.sh, which runs the PyTorch peer side by side and prints the ratios.
#include <chrono>
#include <cstdio>
#include <string>

#include "grokscope/core/config.hpp"
#include "grokscope/core/runtime.hpp"
#include "grokscope/train/fused_mlp.hpp"
#include "grokscope/train/step.hpp"
#include "grokscope/train/trainer.hpp"

using namespace grokscope;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void bench_case(const char* name, const std::string& widths, std::int64_t classes, std::int64_t batch,
                const std::string& loss, int steps, bool use_fused) {
  Config c = Config::from_text("", "bench", {"model.widths=" + widths, "train.loss=" + loss});
  torch::manual_seed(0);
  auto model = make_network(c, InputShape{28, 28, classes});
  auto optimizer = make_optimizer(c, *model);
  const torch::Tensor x = torch::rand({1000, 784});
  const torch::Tensor y = torch::randint(classes, {1000}, torch::kInt64);
  std::int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  std::unique_ptr<FusedMlpStep> fused;
  if (use_fused) fused = std::make_unique<FusedMlpStep>(dynamic_cast<MlpImpl&>(*model), *optimizer, c);
  std::vector<std::int64_t> rows(1000);
  for (std::int64_t i = 0; i < 1000; ++i) rows[i] = i;
  auto step = [&](int i) {
    const std::int64_t start = (i * batch) % (1000 - batch);
    if (fused) fused->step(x, y, rows.data() + start, batch);
    else train_step(*model, *optimizer, x.slice(0, start, start + batch), y.slice(0, start, start + batch), loss, classes);
  };
  for (int i = 0; i < 50; ++i) step(i);
  const auto t = Clock::now();
  for (int i = 0; i < steps; ++i) step(i);
  const double per_step = seconds_since(t) / steps;
  const double flops = 6.0 * double(params) * double(batch);
  std::printf("{\"impl\": \"%s\", \"case\": \"%s\", \"ms_per_step\": %.4f, \"gflops\": %.2f, \"params\": %lld}\n",
              use_fused ? "grokscope" : "grokscope-autograd", name, per_step * 1e3, flops / per_step / 1e9,
              static_cast<long long>(params));
}

void bench_sgemm() {
  const torch::Tensor a = torch::rand({1024, 1024}), b = torch::rand({1024, 1024});
  for (int i = 0; i < 3; ++i) torch::mm(a, b);
  const int reps = 20;
  const auto t = Clock::now();
  for (int i = 0; i < reps; ++i) torch::mm(a, b);
  const double s = seconds_since(t) / reps;
  std::printf("{\"impl\": \"grokscope\", \"case\": \"sgemm1024\", \"gflops\": %.2f}\n", 2.0 * 1024 * 1024 * 1024 / s / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::stoi(argv[1]) : threads_per_rank(0, 1);
  const int steps = argc > 2 ? std::stoi(argv[2]) : 500;
  apply_thread_policy(threads);
  std::printf("{\"impl\": \"grokscope\", \"case\": \"setup\", \"threads\": %d, \"blas\": \"%s\"}\n", threads,
              loaded_blas().name.c_str());
  bench_sgemm();
  for (bool use_fused : {false, true}) {
    bench_case("omnigrok_mlp_b200", "[200, 200]", 10, 200, "mse", steps, use_fused);
    bench_case("emnist_mlp_b128", "[128, 512, 128]", 47, 128, "cross_entropy", steps, use_fused);
  }
  return 0;
}
