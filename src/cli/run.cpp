// grokscope run CONFIG [key=value ...] [--out DIR] [--resume]
//
// Interim output (until the parallel HDF5 results file lands): a folder with the resolved config,
// one CSV of checkpoint metrics per run and the resumable training state of each run.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "grokscope/core/config.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/grid.hpp"
#include "grokscope/core/log.hpp"
#include "grokscope/core/runtime.hpp"
#include "grokscope/data/dataset.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/train/trainer.hpp"

namespace fs = std::filesystem;

namespace grokscope::cli {
namespace {

// Lines of `a` that differ from `b`, as "key: old -> new" (flattened scalar keys).
std::string config_differences(const Config& stored, const Config& requested) {
  std::string out;
  const auto a = stored.flattened(), b = requested.flattened();
  for (const auto& [key, value] : b)
    if (a.count(key) && a.at(key) != value) out += "\n  " + key + ": " + a.at(key) + " -> " + value;
  if (stored.to_yaml() != requested.to_yaml() && out.empty()) out = "\n  (the grid or the seeds differ)";
  return out;
}

void write_csv(const fs::path& path, const RunOutcome& outcome) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << "step,train_loss,train_accuracy,test_loss,test_accuracy,weight_norm,wall_seconds";
    for (const auto& name : outcome.layer_norm_names) out << ",norm_" << name;
    if (!outcome.records.empty())
      for (const auto& metric : outcome.records.front().metrics) out << "," << metric.first;
    out << "\n";
    out.precision(17);
    for (const auto& r : outcome.records) {
      out << r.step << "," << r.train_loss << "," << r.train_accuracy << "," << r.test_loss << ","
          << r.test_accuracy << "," << r.weight_norm << "," << r.wall_seconds;
      for (double v : r.layer_norms) out << "," << v;
      for (const auto& metric : r.metrics) out << "," << metric.second;
      out << "\n";
    }
  }
  fs::rename(tmp, path);
}

}  // namespace

Command add_run(CLI::App& app, MpiEnvironment& mpi) {
  struct Args {
    std::string config, out;
    std::vector<std::string> overrides;
    bool resume = false;
  };
  auto args = std::make_shared<Args>();
  app.add_option("config", args->config, "experiment YAML file")->required();
  app.add_option("overrides", args->overrides, "key.sub=value overrides, key=a,b,c sweeps");
  app.add_option("--out", args->out, "output folder (default: output.path without .h5)");
  app.add_flag("--resume", args->resume, "continue unfinished runs from their last checkpoint");
  app.footer("Example:\n  grokscope run configs/demo.yaml train.steps=2000 --out results/try\n"
             "  mpiexec -n 2 grokscope run configs/demo.yaml model.init_scale=2,8 --resume");
  return [args, &mpi]() {
    const Config config = Config::from_file(args->config, args->overrides);
    const auto runs = expand_grid(config);
    fs::path out = args->out;
    if (out.empty()) {
      out = config.text("output.path");
      if (out.extension() == ".h5") out.replace_extension();
    }
    const fs::path stored_config = out / "config.yaml";
    // Rank 0 checks the folder; every rank learns the verdict, so all fail or none.
    int verdict = 0;
    std::string message;
    if (mpi.world_rank() == 0) {
      if (fs::exists(stored_config) && !args->resume) {
        verdict = 1;
        message = out.string() + " already holds a study; pass --resume to continue it or choose another --out";
      } else if (fs::exists(stored_config)) {
        const Config previous = Config::from_file(stored_config.string());
        if (previous.to_yaml() != config.to_yaml()) {
          verdict = 1;
          message = "--resume with a different config than the one in " + stored_config.string() +
                    "; differing keys:" + config_differences(previous, config);
        }
      } else {
        fs::create_directories(out / "state");
        std::ofstream(stored_config) << config.to_yaml();
      }
    }
    MPI_Bcast(&verdict, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (verdict != 0) {
      if (mpi.world_rank() == 0) throw UsageError(message);
      return 2;
    }
    MPI_Barrier(MPI_COMM_WORLD);
    apply_thread_policy(threads_per_rank(static_cast<int>(config.integer("parallel.threads")), mpi.node_size()));

    // Until the task farm: each rank is its own group of one.
    MpiCommunicator self(MPI_COMM_SELF);
    int failures = 0;
    for (const auto& run : runs) {
      if (static_cast<int>(run.index % mpi.world_size()) != mpi.world_rank()) continue;
      const fs::path csv = out / (run.id + ".csv");
      if (args->resume && fs::exists(csv)) continue;  // finished before
      logging::info_all("run " + run.id + ": " + run.label());
      const Datasets data = load_datasets(DataOptions::from_config(run.config));
      TrainOptions options;
      options.state_path = (out / "state" / (run.id + ".pt")).string();
      options.resume = args->resume;
      options.group = &self;
      const RunOutcome outcome = train_run(run, data, options);
      if (outcome.status == "done") write_csv(csv, outcome);
      else ++failures;
      const auto& last = outcome.records.back();
      char line[256];
      std::snprintf(line, sizeof line, "run %s %s: step %lld train acc %.4f test acc %.4f weight norm %.2f (%.1f s)%s%s",
                    run.id.c_str(), outcome.status.c_str(), static_cast<long long>(last.step),
                    last.train_accuracy, last.test_accuracy, last.weight_norm, outcome.wall_seconds,
                    outcome.error.empty() ? "" : ": ", outcome.error.c_str());
      logging::info_all(line);
    }
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (mpi.world_rank() == 0)
      std::printf("grokscope run: %zu run(s), %d not done; metrics in %s\n", runs.size(), total, out.c_str());
    return total == 0 ? 0 : 1;
  };
}

}  // namespace grokscope::cli
