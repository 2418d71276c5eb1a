#pragma once
// Slurm studies: the study folder, the batch scripts generated from the templates in jobs/, and
// the few Slurm commands grokscope calls (sbatch, squeue). See jobs/README.md for the folder.
//
//   DIR/config.yaml      the fully resolved config every job runs (overrides already applied, so
//                        no config value ever passes through a shell)
//   DIR/study.yaml       mode, grid size, chunking and the submitted job ids (status, collect)
//   DIR/jobs/*.sbatch    the generated scripts;  DIR/logs/%x_%A_%a.out  their output (append)
//   DIR/parts/task_<i>.h5  array mode: one complete file per task (task_<i>.running.h5 while live)
//   DIR/results.h5       the study's one results file (collect merges the parts into it)
//
// Grid run r belongs to array task r / chunk: the same mixed-radix grid order (core/grid.hpp) is
// used at submit, in the task, and at collect.
#include <cstddef>
#include <string>
#include <vector>

namespace grokscope::launch {

// POSIX-shell single quoting: the result is one word and nothing inside it is ever expanded.
std::string shell_quote(const std::string& text);

struct SlurmOptions {
  std::string mode = "array";  // array | mpi
  std::size_t chunk = 1;       // grid runs per array task
  std::size_t throttle = 0;    // at most this many array tasks at once (0: no limit)
  std::string job_name;        // defaults to grokscope-<config name>
  std::string partition, time, account, qos;
  int nodes = 0, ntasks = 0, cpus_per_task = 0;  // 0: Slurm's default (ntasks: 1 per array task)
  std::string gpus;            // --gpus (e.g. "4" or "a100:4"); empty: none
  int signal_seconds = 90;     // --signal=B:USR2@<s> before the time limit
  std::vector<std::string> sbatch_args;  // further #SBATCH options, passed through as given
  std::string launcher = "srun --mpi=pmix";  // how the batch script starts the ranks
};

// Throws UsageError naming the option when a value cannot go into an #SBATCH line (whitespace,
// quotes, newlines: sbatch does not parse those like a shell) or is out of range.
void check_options(const SlurmOptions& options);

std::size_t task_count(std::size_t runs, std::size_t chunk);

struct JobRecord {
  std::string kind;   // array | grid | collect
  std::string id;     // Slurm job id
  std::string tasks;  // array: the --array list as submitted ("0-4%2", "1,3")
};

struct Study {
  std::string dir;      // absolute
  std::string mode;     // array | mpi
  std::string program;  // absolute path of the grokscope executable
  std::string name;
  std::size_t runs = 0, chunk = 1, tasks = 1;
  std::vector<JobRecord> jobs;

  static Study load(const std::string& dir);  // InputError when DIR is not a study folder
  void save() const;                           // atomically (write, then rename)
  std::string part(std::size_t task, bool running) const;  // parts/task_0003[.running].h5, absolute
};

// The scripts for `study` (mode array: the array task and the collect job; mode mpi: the grid job),
// with every substituted value quoted. `array` is the --array list; empty: every task.
std::string array_script(const Study& study, const SlurmOptions& options, const std::string& array);
std::string grid_script(const Study& study, const SlurmOptions& options);
std::string collect_script(const Study& study, const SlurmOptions& options);

struct CommandResult {
  int exit_code = 0;
  std::string out, err;
};
// Runs argv (no shell) in `cwd` and captures its output. Throws Error when it cannot be started.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& cwd = "");

// `sbatch --parsable [extra...] SCRIPT` in the study folder; returns the job id.
std::string sbatch(const Study& study, const std::string& script, const std::vector<std::string>& extra = {});

// State of every job and array element of `ids` known to Slurm: "12_3" or "13" -> "RUNNING", ...
// Jobs Slurm has forgotten are absent. Throws Error when squeue cannot be run.
std::vector<std::pair<std::string, std::string>> queue_states(const std::vector<std::string>& ids);

// Compact --array list of task indices: {0,1,2,5} -> "0-2,5".
std::string array_list(const std::vector<std::size_t>& tasks);

}  // namespace grokscope::launch
