// grokscope: one executable, one subcommand per task. Exit codes: 0 success, 1 runtime failure,
// 2 bad configuration or usage, 3 unreadable or corrupt input file.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>

#include "commands.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/log.hpp"
#include "grokscope/core/runtime.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/version.hpp"

int main(int argc, char** argv) {
  using namespace grokscope;
  MpiEnvironment mpi(&argc, &argv);
  CLI::App app{
      "grokscope " GROKSCOPE_VERSION " — train networks under grokking recipes and measure, at every "
      "checkpoint, how their NTK and layer geometry change.\n\n"
      "Example:\n  grokscope validate configs/demo.yaml\n"
      "  mpiexec -n 2 grokscope run configs/demo.yaml model.init_scale=2,8"};
  app.require_subcommand(1);
  app.set_version_flag("--version", GROKSCOPE_VERSION);
  std::map<CLI::App*, cli::Command> commands;
  auto add = [&](CLI::App* sub, cli::Command command) { commands[sub] = std::move(command); };
  {
    auto* sub = app.add_subcommand("validate", "Print the fully resolved config, the grid and the checkpoint schedule.");
    add(sub, cli::add_validate(*sub));
  }
  {
    auto* sub = app.add_subcommand("run", "Train every run of a config's grid and record its metrics.");
    add(sub, cli::add_run(*sub, mpi));
  }
  {
    auto* sub = app.add_subcommand("status", "Per-run status, progress and ETA of a results file.");
    add(sub, cli::add_status(*sub, mpi));
  }
  {
    auto* sub = app.add_subcommand("merge", "Combine results files of one study written by separate jobs.");
    add(sub, cli::add_merge(*sub, mpi));
  }
  {
    auto* sub = app.add_subcommand("geometry", "MFTMA, GLUE and simulated capacity of manifolds in an HDF5 or .npy file.");
    add(sub, cli::add_geometry(*sub, mpi));
  }
  {
    auto* sub = app.add_subcommand("report", "Onset steps and delays per run and per condition of a results file.");
    add(sub, cli::add_report(*sub));
  }
  {
    auto* sub = app.add_subcommand("submit", "Write a study folder and submit its grid to Slurm (array or one MPI job).");
    add(sub, cli::add_submit(*sub));
  }
  {
    auto* sub = app.add_subcommand("collect", "Merge a Slurm study's finished task files; list or resubmit the rest.");
    add(sub, cli::add_collect(*sub, mpi));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  warn_if_slow_blas();
  try {
    for (auto& [sub, command] : commands)
      if (sub->parsed()) return command();
  } catch (const cli::QuietExit& e) {
    return e.code;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "grokscope: error: %s\n", e.what());
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "grokscope: error: %s\n", e.what());
    return 2;
  } catch (const InputError& e) {
    std::fprintf(stderr, "grokscope: error: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "grokscope: error: %s\n", e.what());
    return 1;
  }
  return 2;
}
