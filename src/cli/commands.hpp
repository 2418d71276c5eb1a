#pragma once
// The subcommands of the `grokscope` executable. Each registers its options on the CLI11 app and
// returns the function that runs it (exit code). Internal to src/cli.
#include <CLI/CLI.hpp>

#include <functional>

namespace grokscope {
class MpiEnvironment;
}

namespace grokscope::cli {

using Command = std::function<int()>;

// Thrown on the ranks that are not the one reporting an error: exit with `code`, print nothing.
struct QuietExit {
  int code;
};

Command add_validate(CLI::App& app);
Command add_run(CLI::App& app, MpiEnvironment& mpi);
Command add_status(CLI::App& app, MpiEnvironment& mpi);
Command add_merge(CLI::App& app, MpiEnvironment& mpi);
Command add_geometry(CLI::App& app, MpiEnvironment& mpi);
Command add_report(CLI::App& app);
Command add_submit(CLI::App& app);
Command add_collect(CLI::App& app, MpiEnvironment& mpi);
// `grokscope status DIR` for a study folder (submit.cpp).
int print_study_status(const std::string& dir);

}  // namespace grokscope::cli
