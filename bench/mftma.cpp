// MFTMA wall time on Gaussian clouds of the shapes, 1 rank (see bench/README.md).
// usage: bench_mftma P M N [N_T]
#include <chrono>
#include <cstdio>
#include <string>

#include "grokscope/core/random.hpp"
#include "grokscope/core/runtime.hpp"
#include "grokscope/geometry/mftma.hpp"

using namespace grokscope;

int main(int argc, char** argv) {
  if (argc < 4) return std::fprintf(stderr, "usage: bench_mftma P M N [N_T]\n"), 2;
  const long P = std::stol(argv[1]), M = std::stol(argv[2]), N = std::stol(argv[3]);
  MftmaOptions o;
  o.n_t = argc > 4 ? std::stoi(argv[4]) : 200;
  set_blas_threads(1);
  RandomStream rng(1);
  std::vector<Eigen::MatrixXd> manifolds;
  for (long p = 0; p < P; ++p) {
    Eigen::MatrixXd m(N, M);
    for (long i = 0; i < N; ++i) {
      const double center = rng.normal();
      for (long j = 0; j < M; ++j) m(i, j) = center + 0.5 * rng.normal();
    }
    manifolds.push_back(m);
  }
  const auto t = std::chrono::steady_clock::now();
  const MftmaResult r = mftma(manifolds, o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  std::printf("{\"P\": %ld, \"M\": %ld, \"N\": %ld, \"n_t\": %d, \"seconds\": %.3f, \"capacity\": %.5f, \"K\": %d}\n", P, M, N,
              o.n_t, s, r.capacity, r.K);
}
