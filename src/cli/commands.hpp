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

Command add_validate(CLI::App& app);
Command add_run(CLI::App& app, MpiEnvironment& mpi);

}  // namespace grokscope::cli
