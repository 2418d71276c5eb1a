// Geometry engines' wall time on Gaussian clouds of the shapes (see bench/README.md).
// usage: [mpiexec -n R] bench_geometry METHOD P M N [N_T] [REPEATS] [THREADS]   METHOD: mftma | glue | simcap
// Each rank uses one BLAS thread; with R ranks the work is sharded over MPI_COMM_WORLD, and GLUE's
// samples also over THREADS threads per rank (default 1). Prints one
// JSON line from rank 0 with the best of REPEATS (default 3) timings and the headline numbers, so a
// 1-rank and a 2-rank run side by side give the speed-up (and show the numbers are identical).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "grokscope/core/random.hpp"
#include "grokscope/core/runtime.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/geometry/glue.hpp"
#include "grokscope/geometry/mftma.hpp"
#include "grokscope/geometry/simcap.hpp"

using namespace grokscope;

int main(int argc, char** argv) {
  MpiEnvironment env(&argc, &argv);
  if (argc < 5) return std::fprintf(stderr, "usage: bench_geometry mftma|glue|simcap P M N [N_T] [REPEATS] [THREADS]\n"), 2;
  const std::string method = argv[1];
  const long P = std::stol(argv[2]), M = std::stol(argv[3]), N = std::stol(argv[4]);
  const int n_t = argc > 5 ? std::stoi(argv[5]) : 200;
  const int repeats = argc > 6 ? std::stoi(argv[6]) : 3;
  const int threads = argc > 7 ? std::stoi(argv[7]) : 1;
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
  MpiCommunicator world(MPI_COMM_WORLD);
  Communicator* comm = world.size() > 1 ? &world : nullptr;
  double best = 1e300, capacity = 0, second = 0;
  for (int r = 0; r < repeats; ++r) {
    MPI_Barrier(MPI_COMM_WORLD);
    const auto t = std::chrono::steady_clock::now();
    if (method == "mftma") {
      MftmaOptions o;
      o.n_t = n_t;
      const MftmaResult res = mftma(manifolds, o, comm);
      capacity = res.capacity, second = res.K;
    } else if (method == "glue") {
      GlueOptions o;
      o.n_t = n_t;
      o.threads = threads;
      const GlueResult res = glue(manifolds, o, comm);
      capacity = res.capacity, second = res.dimension;
    } else if (method == "simcap") {
      const SimcapResult res = simulated_capacity(manifolds, SimcapOptions{}, comm);
      capacity = res.capacity, second = res.critical_dimension;
    } else {
      return std::fprintf(stderr, "unknown method %s\n", method.c_str()), 2;
    }
    MPI_Barrier(MPI_COMM_WORLD);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
  }
  if (world.rank() == 0)
    std::printf("{\"method\": \"%s\", \"ranks\": %d, \"threads\": %d, \"P\": %ld, \"M\": %ld, \"N\": %ld, \"n_t\": %d, "
                "\"seconds\": %.4f, \"capacity\": %.10g, \"%s\": %.10g}\n",
                method.c_str(), world.size(), threads, P, M, N, n_t, best, capacity,
                method == "mftma" ? "K" : method == "glue" ? "dimension" : "critical_dimension", second);
}
