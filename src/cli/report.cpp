// PLACEHOLDER (being written): grokscope report FILE [--json]
#include "commands.hpp"
namespace grokscope::cli {
Command add_report(CLI::App& app) {
  return [] { return 1; };
}
}  // namespace grokscope::cli
