// Structured NTK of grokscope against functorch (bench/peer_ntk.py) on the same weights and probes:
// reads the raw float32 files the peer wrote, times structured_ntk, checks entries against the
// peer's, and reports GFLOP/s against the machine's sgemm rate and the peak memory growth.
//
// usage: bench_ntk WORKDIR CASE WIDTHS CLASSES N_PROBES [PEER_JSON_LINE]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "grokscope/core/runtime.hpp"
#include "grokscope/model/mlp.hpp"
#include "grokscope/ntk/ntk.hpp"
#include "grokscope/train/trainer.hpp"

using namespace grokscope;
using Clock = std::chrono::steady_clock;

namespace {
torch::Tensor read_raw(const std::string& path, std::vector<std::int64_t> shape) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  torch::Tensor t = torch::empty(shape, torch::kFloat32);
  in.read(reinterpret_cast<char*>(t.data_ptr<float>()), static_cast<std::streamsize>(t.numel() * 4));
  return t;
}
double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) return std::fprintf(stderr, "usage: bench_ntk WORKDIR CASE WIDTHS CLASSES N_PROBES\n"), 2;
  const std::string dir = argv[1], name = argv[2];
  MlpOptions o;
  o.widths.clear();
  std::stringstream widths(argv[3]);
  for (std::string w; std::getline(widths, w, ',');) o.widths.push_back(std::stoll(w));
  o.outputs = std::stoll(argv[4]);
  const std::int64_t n = std::stoll(argv[5]);
  apply_thread_policy(threads_per_rank(0, 1));
  MlpImpl model(o);
  {
    torch::NoGradGuard no_grad;
    int i = 0;
    for (auto& p : model.parameters()) {
      p.copy_(read_raw(dir + "/" + name + ".param" + std::to_string(i++) + ".bin", p.sizes().vec()));
    }
  }
  const torch::Tensor x = read_raw(dir + "/" + name + ".x.bin", {n, 784});
  const double rss_before = peak_rss_mb();
  const auto t = Clock::now();
  const torch::Tensor k = structured_ntk(model, x);
  const double seconds = std::chrono::duration<double>(Clock::now() - t).count();
  const double kernel_mb = double(k.numel()) * 4 / 1048576.0;
  // FLOPs of the structured formula: backprop vectors, per-layer GEMMs and the Hadamard products.
  const double C = double(o.outputs), N = double(n);
  double flops = 0;
  std::int64_t fan_in = 784;
  std::vector<std::int64_t> outs = o.widths;
  outs.push_back(o.outputs);
  for (std::size_t l = 0; l < outs.size(); ++l) {
    const double width = double(outs[l]);
    flops += 2 * N * C * N * C * width + 2 * N * N * double(fan_in) + 2 * N * C * N * C;
    if (l > 0) flops += 2 * N * C * width * double(outs[l - 1]);
    fan_in = outs[l];
  }
  std::printf("{\"impl\": \"grokscope\", \"case\": \"%s\", \"n\": %lld, \"rows\": %lld, \"seconds\": %.4f, "
              "\"gflops\": %.2f, \"kernel_mb\": %.1f, \"peak_growth_mb\": %.1f, \"trace\": %.6e",
              name.c_str(), static_cast<long long>(n), static_cast<long long>(k.size(0)), seconds, flops / seconds / 1e9,
              kernel_mb, peak_rss_mb() - rss_before, k.diagonal().to(torch::kFloat64).sum().item<double>());
  const std::int64_t rows[3] = {0, k.size(0) / 2, k.size(0) - 1};
  std::printf(", \"check_values\": [");
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      std::printf("%s%.8e", i + j ? ", " : "", k[rows[i]][rows[j]].item<double>());
  std::printf("]}\n");
  return 0;
}
