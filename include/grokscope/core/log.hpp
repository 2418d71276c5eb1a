#pragma once
// Minimal logging to stderr. Messages from `info`/`warn` are printed by world rank 0 only (the
// rank is set once by the MPI environment); `*_all` print from every rank with the rank prefixed.
#include <string>

namespace grokscope::logging {

void set_rank(int world_rank);
int rank();
void info(const std::string& message);
void warn(const std::string& message);
void info_all(const std::string& message);

}  // namespace grokscope::logging
