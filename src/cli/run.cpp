// grokscope run CONFIG [key=value ...] [--out FILE.h5] [--resume]
//
// The world is split into rank groups (parallel.group_size); groups pull runs from the grid through
// a shared counter (dist/task_farm.hpp); inside a group every rank trains the same model and the
// NTK and geometry work of each checkpoint is sharded over the group. Everything goes into one
// results file (io/results_file.hpp): created collectively before training, then written by each
// group's leader with independent raw-data writes. Training state for resume lives next to it in
// FILE.h5.state/<run_id>.pt (removed when a run finishes).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "commands.hpp"
#include "grokscope/core/config.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/grid.hpp"
#include "grokscope/core/log.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/core/runtime.hpp"
#include "grokscope/core/stop.hpp"
#include "grokscope/data/dataset.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/dist/nccl.hpp"
#include "grokscope/dist/task_farm.hpp"
#include "grokscope/io/results_file.hpp"
#include "grokscope/train/layout.hpp"
#include "grokscope/train/trainer.hpp"

namespace fs = std::filesystem;

namespace grokscope::cli {
namespace {

// Every selected run finished, but some diverged or failed (each is marked in the file).
constexpr int kExitSomeRunsFailed = 4;

// "key: old -> new" for the scalar keys that differ.
std::string config_differences(const Config& stored, const Config& requested) {
  std::string out;
  const auto a = stored.flattened(), b = requested.flattened();
  for (const auto& [key, value] : b)
    if (a.count(key) && a.at(key) != value) out += "\n  " + key + ": " + a.at(key) + " -> " + value;
  if (stored.to_yaml() != requested.to_yaml() && out.empty()) out = "\n  (the grid or the seeds differ)";
  return out;
}

bool finished(const std::string& status) { return status == "done" || status == "diverged" || status == "failed"; }

// Rank 0 decides whether the job may proceed; every rank learns the verdict, so all fail or none.
void check_output(MpiEnvironment& mpi, const fs::path& out, const Config& config, bool resume) {
  int verdict = 0;
  std::string message;
  if (mpi.world_rank() == 0) {
    try {
      if (fs::exists(out) && !resume) {
        verdict = 1;
        message = out.string() + " already exists; pass --resume to continue it or choose another --out";
      } else if (fs::exists(out)) {
        const ResultsFile file = ResultsFile::open(out.string(), false);
        const Config stored = Config::from_text(file.config_yaml(), out.string() + " (stored config)");
        if (stored.to_yaml() != config.to_yaml()) {
          verdict = 1;
          message = "--resume with a different config than the one stored in " + out.string() +
                    "; differing keys:" + config_differences(stored, config);
        }
      } else if (!out.parent_path().empty()) {
        fs::create_directories(out.parent_path());
      }
    } catch (const Error& e) {
      verdict = 2;
      message = e.what();
    }
  }
  MPI_Bcast(&verdict, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (verdict == 0) return;
  // Only rank 0 reports; the others leave quietly with the same exit code.
  if (mpi.world_rank() == 0) {
    if (verdict == 2) throw InputError(out.string(), message.substr(message.find(": ") + 2));
    throw UsageError(message);
  }
  throw QuietExit{verdict == 2 ? 3 : 2};
}

std::pair<std::size_t, std::size_t> parse_shard(const std::string& text) {
  if (text.empty()) return {0, 1};
  const auto slash = text.find('/');
  std::size_t i = 0, n = 0;
  try {
    if (slash == std::string::npos) throw std::invalid_argument(text);
    std::size_t used = 0;
    i = std::stoul(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument(text);
    n = std::stoul(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    throw UsageError("--shard: expected I/N with integers 0 <= I < N, got '" + text + "'");
  }
  if (n == 0 || i >= n) throw UsageError("--shard: expected I/N with 0 <= I < N, got '" + text + "'");
  return {i, n};
}

// "FIRST-LAST" (inclusive grid indices, as in Slurm's --array) or "INDEX"; empty: every run.
std::pair<std::size_t, std::size_t> parse_runs(const std::string& text, std::size_t runs) {
  if (text.empty()) return {0, runs == 0 ? 0 : runs - 1};
  std::size_t first = 0, last = 0;
  try {
    std::size_t used = 0;
    const auto dash = text.find('-');
    first = std::stoul(text.substr(0, dash), &used);
    if (used != (dash == std::string::npos ? text.size() : dash)) throw std::invalid_argument(text);
    last = first;
    if (dash != std::string::npos) {
      last = std::stoul(text.substr(dash + 1), &used);
      if (used != text.size() - dash - 1) throw std::invalid_argument(text);
    }
  } catch (const std::exception&) {
    throw UsageError("--runs: expected FIRST-LAST or INDEX (grid indices), got '" + text + "'");
  }
  if (first > last || last >= runs)
    throw UsageError("--runs: '" + text + "' is outside the grid's " + std::to_string(runs) + " run(s) 0-" +
                     std::to_string(runs - 1));
  return {first, last};
}

std::string study_fingerprint(Config config) {
  config.set("output.path", std::string());
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(stream_tag(config.to_yaml())));
  return buf;
}

// The datasets of every distinct data configuration in the grid, loaded once.
class DataCache {
 public:
  const Datasets& get(const Config& config) {
    const DataOptions options = DataOptions::from_config(config);
    std::string key;
    for (const auto& [k, v] : config.flattened())
      if (k.rfind("data.", 0) == 0) key += k + "=" + v + "\n";
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(key, load_datasets(options)).first;
    return it->second;
  }

 private:
  std::map<std::string, Datasets> cache_;
};

StudyLayout study_layout(const Config& config, const std::vector<RunPoint>& runs, DataCache& data,
                         const std::string& command_line) {
  StudyLayout layout;
  layout.config_yaml = config.to_yaml();
  layout.command_line = command_line;
  layout.fingerprint = study_fingerprint(config);
  std::map<std::string, std::string> groups;  // inputs key -> group
  for (const auto& run : runs) {
    const Datasets& d = data.get(run.config);
    const std::string key = inputs_key(run.config);
    auto it = groups.find(key);
    if (it == groups.end()) {
      // The first distinct inputs live at the root (/probes, /manifolds), as results-file.md names them.
      const std::string group = groups.empty() ? "/" : "/inputs/" + std::to_string(groups.size());
      it = groups.emplace(key, group).first;
      layout.inputs.push_back(input_set(measurement_inputs(run.config, d), group));
    }
    layout.runs.push_back(describe_run(run, d, it->second));
  }
  return layout;
}

}  // namespace

Command add_run(CLI::App& app, MpiEnvironment& mpi) {
  struct Args {
    std::string config, out;
    std::vector<std::string> overrides;
    std::string shard, runs;
    bool resume = false;
  };
  auto args = std::make_shared<Args>();
  app.add_option("config", args->config, "experiment YAML file")->required();
  app.add_option("overrides", args->overrides, "key.sub=value overrides, key=a,b,c sweeps");
  app.add_option("--out", args->out, "results file (default: output.path)");
  app.add_flag("--resume", args->resume, "continue unfinished runs from their last checkpoint");
  app.add_option("--shard", args->shard,
                 "I/N: train only the runs whose grid index is I modulo N (e.g. one Slurm array task); "
                 "the file still lists every run, `grokscope merge` combines the shards");
  app.add_option("--runs", args->runs,
                 "FIRST-LAST: train only these grid indices (inclusive; e.g. the chunk of one Slurm array task)");
  app.footer("Exit codes: 0 every run done; 4 every run finished but some diverged or failed (marked in the\n"
             "file); 75 stopped by SIGUSR2/SIGTERM with the state saved (resume with --resume).\n"
             "Example:\n  grokscope run configs/demo.yaml train.steps=2000 --out results/try.h5\n"
             "  mpiexec -n 2 grokscope run configs/demo.yaml model.init_scale=2,8 --resume");
  return [args, &mpi]() {
    Config config = Config::from_file(args->config, args->overrides);
    const auto [shard, shards] = parse_shard(args->shard);
    if (!args->out.empty()) config.set("output.path", args->out);
    const fs::path out = config.text("output.path");
    const auto runs = expand_grid(config);
    const auto [first_run, last_run] = parse_runs(args->runs, runs.size());
    auto selected = [&, first_run = first_run, last_run = last_run, shard = shard, shards = shards](const RunPoint& run) {
      return run.index % shards == shard && run.index >= first_run && run.index <= last_run;
    };
    check_output(mpi, out, config, args->resume);

    const int threads = threads_per_rank(static_cast<int>(config.integer("parallel.threads")), mpi.node_size());
    if (const std::string w = binding_warning(threads, "parallel.threads"); !w.empty()) logging::warn(w);
    apply_thread_policy(threads);
    const auto group = MpiCommunicator::split_groups(MPI_COMM_WORLD, static_cast<int>(config.integer("parallel.group_size")));
    const bool leader = group->rank() == 0;
    // Decided before the file exists, so a bad device request leaves nothing behind.
    const DeviceChoice device = choose_device(config, mpi.node_rank());
    std::unique_ptr<Communicator> device_group;
    if (device.kind == "cuda" && group->size() > 1) device_group = make_nccl_communicator(*group, device.index);

    DataCache data;
    std::string command_line = "grokscope run " + args->config;
    for (const auto& o : args->overrides) command_line += " " + o;
    ResultsFile file = fs::exists(out)
                           ? ResultsFile::open(out.string(), true, MPI_COMM_WORLD)
                           : ResultsFile::create(out.string(), study_layout(config, runs, data, command_line),
                                                 MPI_COMM_WORLD);
    const fs::path state_dir = out.string() + ".state";
    if (mpi.world_rank() == 0) fs::create_directories(state_dir);

    // Unfinished runs, in grid order (every rank reads the same file, so all agree).
    std::vector<std::size_t> todo;
    for (const auto& run : runs)
      if (selected(run) && !finished(file.progress(run.id).status)) todo.push_back(run.index);
    MPI_Barrier(MPI_COMM_WORLD);

    // SIGUSR2 / SIGTERM (Slurm preemption, time limits): the running run saves its state at the
    // step it reached and no new run starts; exit code kExitStopped tells the batch script to requeue.
    install_stop_handlers();
    auto stop_agreed = [&] {  // every rank of a group decides alike (they share the task farm's draws)
      double flag = stop_requested() != 0 ? 1.0 : 0.0;
      group->allreduce_sum(&flag, 1);
      return flag > 0;
    };
    bool stopped = false;
    {
      TaskFarm farm(MPI_COMM_WORLD, group->handle(), todo.size());
      while (!stop_agreed()) {
        const auto task = farm.next();
        if (!task) break;
        const RunPoint& run = runs[todo[*task]];
        const Datasets& d = data.get(run.config);
        const auto steps = file.steps(run.id);
        logging::info_all("run " + run.id + ": " + run.label());
        TrainOptions options;
        options.state_path = (state_dir / (run.id + ".pt")).string();
        options.resume = true;  // a state file exists only for a run that started before
        options.write_state = leader;
        options.group = group.get();
        options.device = device.kind;
        options.device_index = device.index;
        options.device_group = device_group.get();
        options.threads = threads;
        std::vector<std::string> layer_names;
        options.on_checkpoint = [&](const CheckpointRecord& r) {
          if (!leader) return;
          const auto index = static_cast<std::size_t>(std::find(steps.begin(), steps.end(), r.step) - steps.begin());
          file.write_checkpoint(run.id, index, checkpoint_values(r, layer_names));
          file.set_status(run.id, "running", "", r.wall_seconds);
          file.set_completed(run.id, static_cast<std::int64_t>(index + 1));  // last: the resume point
        };
        options.on_start = [&](const std::vector<std::string>& names) { layer_names = names; };
        RunOutcome outcome;
        try {
          outcome = train_run(run, d, options);
        } catch (const std::exception& e) {
          // A run that cannot even start (e.g. a corrupt state file) is marked; the others go on.
          outcome.status = "failed";
          outcome.error = e.what();
        }
        if (outcome.status == "interrupted") {
          // Not finished: the file keeps status "running" and the state file the exact step.
          if (leader) {
            file.set_status(run.id, "running", "", outcome.wall_seconds);
            logging::info_all("run " + run.id + " " + outcome.error + "; state saved, resume with --resume");
          }
          stopped = true;
          break;
        }
        if (leader) {
          file.set_instabilities(run.id, outcome.instability_steps);
          if (!outcome.timings.empty()) file.set_timings(run.id, outcome.timings);
          file.set_status(run.id, outcome.status, outcome.error, outcome.wall_seconds);
          if (outcome.status == "done") fs::remove(options.state_path);
        }
        const CheckpointRecord last = outcome.records.empty() ? CheckpointRecord{} : outcome.records.back();
        char line[320];
        std::snprintf(line, sizeof line, "run %s %s: step %lld train acc %.4f test acc %.4f weight norm %.2f (%.1f s)",
                      run.id.c_str(), outcome.status.c_str(), static_cast<long long>(last.step),
                      last.train_accuracy, last.test_accuracy, last.weight_norm, outcome.wall_seconds);
        // The whole error: it names the file or field to fix (the results file keeps it too).
        if (leader) logging::info_all(line + (outcome.error.empty() ? std::string() : ": " + outcome.error));
      }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    int not_done = 0, unfinished = 0;
    for (const auto& run : runs)
      if (selected(run)) {
        const std::string status = file.progress(run.id).status;
        not_done += status != "done";
        unfinished += !finished(status);
      }
    file.close();
    if (mpi.world_rank() == 0)
      std::printf("grokscope run: %zu of the grid's %zu run(s) here, %d not done; results in %s\n",
                  static_cast<std::size_t>(std::count_if(runs.begin(), runs.end(), selected)), runs.size(), not_done,
                  out.c_str());
    if (stopped || (stop_requested() != 0 && unfinished > 0)) return kExitStopped;
    if (not_done == 0) return 0;
    return unfinished == 0 ? kExitSomeRunsFailed : 1;
  };
}

}  // namespace grokscope::cli
