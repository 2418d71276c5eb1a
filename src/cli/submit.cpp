// grokscope submit CONFIG --study DIR [...]   writes a study folder and submits it to Slurm
// grokscope collect DIR [--resubmit]          merges what is done, lists (and resubmits) the rest
// grokscope status DIR                        (status.cpp calls print_study_status)
//
// Fire-and-forget, as users of submitit/Snakemake expect: submit returns once sbatch has answered,
// and status/collect are separate commands. The folder and the scripts are in launch/slurm.hpp;
// the script templates are jobs/*.sbatch.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "commands.hpp"
#include "grokscope/core/config.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/grid.hpp"
#include "grokscope/data/dataset.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/io/merge.hpp"
#include "grokscope/io/results_file.hpp"
#include "grokscope/launch/slurm.hpp"

namespace fs = std::filesystem;

namespace grokscope::cli {
namespace {

using launch::Study;

std::string this_program() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw Error("cannot find the path of the grokscope executable (/proc/self/exe)");
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string job_word(const std::string& name) {
  std::string out;
  for (char ch : name) out += std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.' ? ch : '_';
  return out.empty() ? "study" : out.substr(0, 64);
}

void write_file(const fs::path& path, const std::string& text, bool executable) {
  std::ofstream f(path);
  f << text;
  f.close();
  if (!f) throw Error(path.string() + ": cannot write");
  if (executable) fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                                  fs::perm_options::add);
}

// Submits the array (all tasks, or `tasks`) and its collect job; records both in the study.
void submit_array(Study& study, const launch::SlurmOptions& options, const std::vector<std::size_t>& tasks) {
  const fs::path jobs = fs::path(study.dir) / "jobs";
  std::vector<std::string> extra;
  std::string list;
  if (!tasks.empty()) {
    // A resubmission: the same script, with the missing tasks on sbatch's command line (which
    // takes precedence over the script's #SBATCH --array).
    list = launch::array_list(tasks) + (options.throttle ? "%" + std::to_string(options.throttle) : "");
    extra.push_back("--array=" + list);
  }
  const std::string array_id = launch::sbatch(study, (jobs / "array.sbatch").string(), extra);
  study.jobs.push_back({"array", array_id, list.empty() ? "all" : list});
  study.save();
  const std::string collect_id =
      launch::sbatch(study, (jobs / "collect.sbatch").string(), {"--dependency=afterany:" + array_id});
  study.jobs.push_back({"collect", collect_id, ""});
  study.save();
  std::printf("submitted array job %s (%s) and collect job %s (after it)\n", array_id.c_str(),
              list.empty() ? ("tasks 0-" + std::to_string(study.tasks - 1)).c_str() : ("tasks " + list).c_str(),
              collect_id.c_str());
}

void submit_grid(Study& study) {
  const std::string id = launch::sbatch(study, (fs::path(study.dir) / "jobs" / "grid.sbatch").string());
  study.jobs.push_back({"grid", id, ""});
  study.save();
  std::printf("submitted grid job %s\n", id.c_str());
}

// Slurm's view of the study's jobs: array task -> state (the latest submission wins), and the
// state of the grid job (mode mpi).
struct QueueView {
  std::map<std::size_t, std::string> tasks;
  std::string grid;
};
QueueView queue_view(const Study& study) {
  QueueView view;
  std::vector<std::string> ids;
  for (const auto& job : study.jobs)
    if (job.kind != "collect") ids.push_back(job.id);
  for (const auto& [id, state] : launch::queue_states(ids)) {
    const auto bar = id.find('_');
    if (bar == std::string::npos) {
      view.grid = state;
      continue;
    }
    const std::string suffix = id.substr(bar + 1);
    if (!suffix.empty() && std::isdigit(static_cast<unsigned char>(suffix[0])))
      view.tasks[std::stoul(suffix)] = state;
  }
  return view;
}

bool queued(const std::string& state) { return state == "PENDING" || state == "RUNNING" || state == "CONFIGURING" ||
                                               state == "REQUEUED" || state == "SUSPENDED" || state == "COMPLETING"; }

struct FileSummary {
  std::size_t done = 0, finished = 0, runs = 0;
  std::int64_t completed = 0, checkpoints = 0;
};
FileSummary summarize(const std::string& path, std::size_t first, std::size_t last) {
  FileSummary s;
  const ResultsFile file = ResultsFile::open(path, false);
  const auto ids = file.run_ids();
  for (std::size_t i = first; i <= last && i < ids.size(); ++i) {
    const RunProgress p = file.progress(ids[i]);
    ++s.runs;
    s.done += p.status == "done";
    s.finished += p.status == "done" || p.status == "diverged" || p.status == "failed";
    s.completed += p.completed;
    s.checkpoints += static_cast<std::int64_t>(file.steps(ids[i]).size());
  }
  return s;
}

struct TaskState {
  std::size_t task = 0, first = 0, last = 0;
  std::string state;  // done | running | pending | partial | missing | ... (Slurm's word when queued)
  std::string file;   // the file that holds its results ("" when none)
  FileSummary summary;
};

std::vector<TaskState> task_states(const Study& study, const QueueView& queue) {
  std::vector<TaskState> states;
  const std::size_t tasks = study.mode == "array" ? study.tasks : 1;
  for (std::size_t t = 0; t < tasks; ++t) {
    TaskState s;
    s.task = t;
    s.first = study.mode == "array" ? t * study.chunk : 0;
    s.last = study.mode == "array" ? std::min(study.runs, (t + 1) * study.chunk) - 1 : study.runs - 1;
    const std::string final_file = study.mode == "array" ? study.part(t, false) : study.dir + "/results.h5";
    const std::string running = study.mode == "array" ? study.part(t, true) : study.dir + "/results.running.h5";
    const std::string slurm = study.mode == "array" ? (queue.tasks.count(t) ? queue.tasks.at(t) : "") : queue.grid;
    if (fs::exists(final_file)) s.state = "done", s.file = final_file;
    else if (!slurm.empty()) s.state = slurm, s.file = fs::exists(running) ? running : "";
    else if (fs::exists(running)) s.state = "partial", s.file = running;
    else s.state = "missing";
    if (!s.file.empty()) {
      try {
        s.summary = summarize(s.file, s.first, s.last);
      } catch (const Error&) {
        // A file still being created (its .partial not yet renamed) has nothing to show yet.
      }
    }
    states.push_back(s);
  }
  return states;
}

void print_tasks(const Study& study, const std::vector<TaskState>& states) {
  std::printf("study %s: mode %s, %zu run(s)", study.dir.c_str(), study.mode.c_str(), study.runs);
  if (study.mode == "array") std::printf(", %zu task(s) of %zu run(s)", study.tasks, study.chunk);
  std::printf("\njobs:");
  for (const auto& j : study.jobs) std::printf(" %s %s%s", j.kind.c_str(), j.id.c_str(), j.tasks.empty() || j.tasks == "all" ? "" : (" [" + j.tasks + "]").c_str());
  std::printf("\n%-6s %-11s %-9s %-10s %-12s %s\n", "task", "runs", "state", "runs done", "checkpoints", "file");
  std::map<std::string, int> counts;
  for (const auto& s : states) {
    ++counts[s.state];
    char runs[32], done[32], ckpt[48];
    std::snprintf(runs, sizeof runs, "%zu-%zu", s.first, s.last);
    std::snprintf(done, sizeof done, "%zu/%zu", s.summary.done, s.last - s.first + 1);
    std::snprintf(ckpt, sizeof ckpt, "%lld/%lld", static_cast<long long>(s.summary.completed),
                  static_cast<long long>(s.summary.checkpoints));
    std::printf("%-6zu %-11s %-9s %-10s %-12s %s\n", s.task, runs, s.state.c_str(), done, ckpt,
                s.file.empty() ? "-" : fs::path(s.file).filename().c_str());
  }
  std::printf("total:");
  for (const auto& [state, n] : counts) std::printf(" %d %s", n, state.c_str());
  std::printf("\n");
}

}  // namespace

int print_study_status(const std::string& dir) {
  const Study study = Study::load(dir);
  const auto states = task_states(study, queue_view(study));
  print_tasks(study, states);
  if (fs::exists(study.dir + "/results.h5") && study.mode == "array")
    std::printf("collected: %s/results.h5\n", study.dir.c_str());
  return 0;
}

Command add_submit(CLI::App& app) {
  struct Args {
    std::string config, study;
    std::vector<std::string> overrides;
    launch::SlurmOptions slurm;
    bool dry_run = false;
  };
  auto args = std::make_shared<Args>();
  app.add_option("config", args->config, "experiment YAML file")->required();
  app.add_option("overrides", args->overrides, "key.sub=value overrides, key=a,b,c sweeps");
  app.add_option("--study", args->study, "study folder to create (config, scripts, logs, results)")->required();
  app.add_option("--mode", args->slurm.mode, "array: one array task per chunk of runs, each its own file, "
                                             "merged by a collect job; mpi: one MPI allocation runs the whole grid")
      ->capture_default_str();
  app.add_option("--chunk", args->slurm.chunk, "grid runs per array task")->capture_default_str();
  app.add_option("--throttle", args->slurm.throttle, "at most this many array tasks at once (--array=...%M)");
  app.add_option("--job-name", args->slurm.job_name, "Slurm job name (default grokscope-<config name>)");
  app.add_option("--partition", args->slurm.partition, "Slurm partition");
  app.add_option("--time", args->slurm.time, "time limit per job or array task (e.g. 02:00:00)");
  app.add_option("--account", args->slurm.account, "Slurm account");
  app.add_option("--qos", args->slurm.qos, "Slurm QOS");
  app.add_option("--nodes", args->slurm.nodes, "nodes per job / array task");
  app.add_option("--ntasks", args->slurm.ntasks, "MPI ranks per job / array task (default 1)");
  app.add_option("--cpus-per-task", args->slurm.cpus_per_task, "cores per rank (sets the rank's BLAS threads)");
  app.add_option("--gpus", args->slurm.gpus, "GPUs per job / array task (--gpus)");
  app.add_option("--signal-seconds", args->slurm.signal_seconds,
                 "send SIGUSR2 this long before the time limit: the run saves its state and the job requeues")
      ->capture_default_str();
  app.add_option("--sbatch-arg", args->slurm.sbatch_args, "a further #SBATCH option, e.g. --mem=8G (repeatable)");
  app.add_option("--launcher", args->slurm.launcher, "how a job starts its ranks")->capture_default_str();
  app.add_flag("--dry-run", args->dry_run, "print the expanded grid and the scripts; write and submit nothing");
  app.footer("Example:\n  grokscope submit configs/omnigrok-mnist.yaml seeds=5 --study studies/omnigrok --chunk 2 "
             "--throttle 4 --time 04:00:00\n  grokscope status studies/omnigrok\n  grokscope collect studies/omnigrok --resubmit");
  return [args]() {
    launch::check_options(args->slurm);
    Config config = Config::from_file(args->config, args->overrides);
    Study study;
    study.dir = fs::absolute(args->study).lexically_normal().string();
    if (study.dir.size() > 1 && study.dir.back() == '/') study.dir.pop_back();
    config.set("output.path", study.dir + "/results.h5");
    const auto runs = expand_grid(config);
    for (const auto& run : runs) check_dataset_sizes(DataOptions::from_config(run.config));
    study.mode = args->slurm.mode;
    study.program = this_program();
    study.name = job_word(config.text("name"));
    study.runs = runs.size();
    study.chunk = study.mode == "array" ? args->slurm.chunk : runs.size();
    study.tasks = study.mode == "array" ? launch::task_count(runs.size(), study.chunk) : 1;
    std::vector<std::pair<std::string, std::string>> scripts;
    if (study.mode == "array") {
      scripts = {{"array.sbatch", launch::array_script(study, args->slurm, "")},
                 {"collect.sbatch", launch::collect_script(study, args->slurm)}};
    } else {
      scripts = {{"grid.sbatch", launch::grid_script(study, args->slurm)}};
    }

    if (args->dry_run) {
      std::printf("# study %s (dry run: nothing written, nothing submitted)\n# grid: %zu run(s)", study.dir.c_str(),
                  runs.size());
      if (study.mode == "array") std::printf(" in %zu array task(s) of %zu", study.tasks, study.chunk);
      std::printf("\n");
      for (const auto& run : runs)
        std::printf("%s  task %zu  %s\n", run.id.c_str(), study.mode == "array" ? run.index / study.chunk : 0,
                    run.label().c_str());
      for (const auto& [name, text] : scripts) std::printf("\n# ---- jobs/%s ----\n%s", name.c_str(), text.c_str());
      return 0;
    }

    // Never clobber: a study folder is created once; a second submit goes through collect --resubmit.
    if (fs::exists(study.dir) && !fs::is_empty(study.dir))
      throw UsageError("--study: " + study.dir + " exists and is not empty" +
                       (fs::exists(study.dir + "/study.yaml") ? " (a study: use `grokscope collect " + study.dir +
                                                                    " --resubmit` to continue it)"
                                                              : ""));
    for (const char* sub : {"jobs", "logs", "parts"}) fs::create_directories(fs::path(study.dir) / sub);
    write_file(fs::path(study.dir) / "config.yaml", config.to_yaml(), false);
    for (const auto& [name, text] : scripts) write_file(fs::path(study.dir) / "jobs" / name, text, true);
    study.save();
    if (study.mode == "array") submit_array(study, args->slurm, {});
    else submit_grid(study);
    std::printf("study folder: %s\n  grokscope status %s\n  grokscope collect %s\n", study.dir.c_str(),
                launch::shell_quote(study.dir).c_str(), launch::shell_quote(study.dir).c_str());
    return 0;
  };
}

Command add_collect(CLI::App& app, MpiEnvironment& mpi) {
  struct Args {
    std::string dir;
    bool resubmit = false;
    std::size_t throttle = 0;
  };
  auto args = std::make_shared<Args>();
  app.add_option("study", args->dir, "study folder written by grokscope submit")->required();
  app.add_flag("--resubmit", args->resubmit, "submit again every task that is neither complete nor queued");
  app.add_option("--throttle", args->throttle, "throttle for the resubmitted array (--array=...%M)");
  app.footer("Example:\n  grokscope collect studies/omnigrok            # merge into studies/omnigrok/results.h5\n"
             "  grokscope collect studies/omnigrok --resubmit");
  return [args, &mpi]() {
    if (mpi.world_rank() != 0) return 0;
    Study study = Study::load(args->dir);
    const auto states = task_states(study, queue_view(study));
    std::vector<std::string> inputs;
    std::vector<std::size_t> missing;
    for (const auto& s : states) {
      if (!s.file.empty() && s.summary.runs > 0) inputs.push_back(s.file);
      if (s.state != "done" && !queued(s.state)) missing.push_back(s.task);
    }
    const std::string out = study.dir + "/results.h5";
    if (study.mode == "array" && !inputs.empty()) {
      // A newer collect replaces the older merge atomically; the task files are never touched.
      merge_results(out, inputs, /*replace=*/true);
      std::printf("collected %zu task file(s) into %s\n", inputs.size(), out.c_str());
    }
    print_tasks(study, states);
    const bool complete = std::all_of(states.begin(), states.end(), [](const TaskState& s) { return s.state == "done"; });
    if (complete) {
      std::printf("complete: %s\n", out.c_str());
      return 0;
    }
    if (!missing.empty()) {
      std::printf("missing (neither complete nor queued): task(s) %s\n", launch::array_list(missing).c_str());
      if (args->resubmit) {
        launch::SlurmOptions options;
        options.throttle = args->throttle;
        if (study.mode == "array") submit_array(study, options, missing);
        else submit_grid(study);
        return 0;
      }
      std::printf("  grokscope collect %s --resubmit   # submits them again; they resume from their state\n",
                  launch::shell_quote(study.dir).c_str());
    }
    return 1;
  };
}

}  // namespace grokscope::cli
