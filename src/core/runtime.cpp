#include "grokscope/core/runtime.hpp"

#include <dlfcn.h>
#include <link.h>

#include <climits>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "grokscope/core/log.hpp"

namespace grokscope {
namespace {

std::vector<std::string> loaded_objects() {
  std::vector<std::string> names;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0')
          static_cast<std::vector<std::string>*>(data)->emplace_back(info->dlpi_name);
        return 0;
      },
      &names);
  return names;
}

std::string resolved(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) != nullptr ? std::string(buf) : path;
}

}  // namespace

BlasInfo loaded_blas() {
  BlasInfo info{"unknown", "", false};
  if (dlsym(RTLD_DEFAULT, "openblas_get_config") != nullptr) info.name = "OpenBLAS";
  if (dlsym(RTLD_DEFAULT, "mkl_get_version") != nullptr) info.name = "MKL";
  for (const auto& object : loaded_objects()) {
    const std::string path = resolved(object);
    const auto slash = path.rfind('/');
    const std::string base = path.substr(slash == std::string::npos ? 0 : slash + 1);
    if (base.rfind("libblas.so", 0) != 0 && base.rfind("libopenblas", 0) != 0) continue;
    info.library = path;
    // Debian installs the netlib reference BLAS under .../blas/libblas.so.3.
    if (info.name == "unknown" && path.find("/blas/") != std::string::npos) {
      info.name = "reference BLAS";
      info.slow = true;
    }
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

void set_blas_threads(int threads) {
  using SetThreads = void (*)(int);
  if (auto* fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    fn(threads);
}

int threads_per_rank(int requested, int ranks_on_node) {
  if (requested > 0) return requested;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const int share = cores / (ranks_on_node > 0 ? ranks_on_node : 1);
  return share > 0 ? share : 1;
}

}  // namespace grokscope
