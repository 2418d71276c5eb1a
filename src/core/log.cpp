#include "grokscope/core/log.hpp"

#include <cstdio>

namespace grokscope::logging {
namespace {
int g_rank = 0;
}

void set_rank(int world_rank) { g_rank = world_rank; }
int rank() { return g_rank; }

void info(const std::string& message) {
  if (g_rank == 0) std::fprintf(stderr, "[grokscope] %s\n", message.c_str());
}
void warn(const std::string& message) {
  if (g_rank == 0) std::fprintf(stderr, "[grokscope] warning: %s\n", message.c_str());
}
void info_all(const std::string& message) {
  std::fprintf(stderr, "[grokscope rank %d] %s\n", g_rank, message.c_str());
}

}  // namespace grokscope::logging
