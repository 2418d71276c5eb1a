#include "grokscope/core/runtime.hpp"

#include <dlfcn.h>
#include <sched.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "grokscope/core/log.hpp"

namespace grokscope {
namespace {

std::string resolved(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) != nullptr ? std::string(buf) : path;
}

}  // namespace

BlasInfo loaded_blas() {
  // Ask which loaded object provides sgemm_: several BLAS libraries may be loaded at once (Debian's
  // LAPACK pulls in libopenblas.so.0 even when libblas.so.3 is the reference one), and the first
  // in the global search order is the one LibTorch's GEMMs call.
  BlasInfo info{"unknown", "", false};
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info where{};
  if (sgemm == nullptr || dladdr(sgemm, &where) == 0 || where.dli_fname == nullptr) return info;
  info.library = resolved(where.dli_fname);
  if (info.library.find("openblas") != std::string::npos) info.name = "OpenBLAS";
  else if (info.library.find("mkl") != std::string::npos) info.name = "MKL";
  else if (info.library.find("blis") != std::string::npos) info.name = "BLIS";
  else if (info.library.find("/blas/") != std::string::npos) {
    info.name = "reference BLAS";  // Debian's netlib BLAS lives in .../blas/libblas.so.3
    info.slow = true;
  }
  return info;
}

void warn_if_slow_blas() {
  static bool warned = false;
  if (warned) return;
  warned = true;
  const BlasInfo blas = loaded_blas();
  if (blas.slow)
    logging::warn("the loaded BLAS is the slow reference implementation (" + blas.library +
                  "); LibTorch will run ~50x slower. Install libopenblas0-pthread (env/bootstrap.sh) "
                  "or select it with update-alternatives --config libblas.so.3-x86_64-linux-gnu");
}

namespace {
using SetThreads = void (*)(int);
SetThreads openblas_set_num_threads() {
  static const auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  return fn;
}
}  // namespace

void set_blas_threads(int threads) {
  if (auto* fn = openblas_set_num_threads()) fn(threads);
}

bool blas_threads_settable() { return openblas_set_num_threads() != nullptr; }

int cores_of_this_thread() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return cores > 0 ? cores : 1;
}

int threads_per_rank(int requested, int ranks_on_node) {
  if (requested > 0) return requested;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const int share = std::min(cores / (ranks_on_node > 0 ? ranks_on_node : 1), cores_of_this_thread());
  return share > 0 ? share : 1;
}

std::string binding_warning(int threads, const std::string& setting) {
  const int cores = cores_of_this_thread();
  if (threads <= cores) return "";
  const std::string n = std::to_string(threads);
  return setting + " is " + n + " but this rank may run on only " + std::to_string(cores) +
         " core(s) (its CPU affinity), so its threads share them; give each rank " + n +
         " cores (mpiexec --bind-to none, or --map-by slot:PE=" + n + "; srun --cpus-per-task=" + n +
         ") or set " + setting + " to 0";
}

}  // namespace grokscope
