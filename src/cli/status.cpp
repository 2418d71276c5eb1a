// grokscope status FILE: per-run status, progress and ETA of a results file (live or finished).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "commands.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/io/hdf5.hpp"
#include "grokscope/io/results_file.hpp"

namespace grokscope::cli {
namespace {

std::string duration(double seconds) {
  char buf[32];
  if (!(seconds >= 0)) return "-";
  if (seconds < 90) std::snprintf(buf, sizeof buf, "%.0fs", seconds);
  else if (seconds < 5400) std::snprintf(buf, sizeof buf, "%.1fm", seconds / 60);
  else std::snprintf(buf, sizeof buf, "%.1fh", seconds / 3600);
  return buf;
}

}  // namespace

Command add_status(CLI::App& app, MpiEnvironment& mpi) {
  auto path = std::make_shared<std::string>();
  app.add_option("file", *path, "results file (.h5), or a study folder written by grokscope submit")->required();
  app.footer("Example:\n  grokscope status results/demo.h5\n  grokscope status studies/omnigrok   # Slurm tasks and their files");
  return [path, &mpi]() {
    if (mpi.world_rank() != 0) return 0;
    if (std::filesystem::is_directory(*path)) return print_study_status(*path);
    // Read-only and serial: safe while a job is writing (it only ever writes raw data).
    const ResultsFile file = ResultsFile::open(*path, false);
    std::printf("%-8s %-9s %9s %10s %9s %9s %8s  %s\n", "run", "status", "progress", "step", "train_acc",
                "test_acc", "wall", "ETA / error");
    std::map<std::string, int> counts;
    for (const auto& id : file.run_ids()) {
      const RunProgress p = file.progress(id);
      const auto steps = file.steps(id);
      ++counts[p.status];
      const std::int64_t C = static_cast<std::int64_t>(steps.size());
      const std::int64_t done = std::min(p.completed, C);
      const std::int64_t step = done > 0 ? steps[static_cast<std::size_t>(done - 1)] : 0;
      double train = NAN, test = NAN;
      if (done > 0) {
        train = h5::read_doubles(file.file(), "/runs/" + id + "/metrics/train_accuracy")[static_cast<std::size_t>(done - 1)];
        test = h5::read_doubles(file.file(), "/runs/" + id + "/metrics/test_accuracy")[static_cast<std::size_t>(done - 1)];
      }
      std::string tail;
      if (!p.error.empty()) tail = p.error.substr(0, 80);
      else if (p.status == "running" && step > 0)
        // Checkpoints are log-spaced, so extrapolate in steps, not in checkpoints.
        tail = duration(p.wall_seconds * double(steps.back() - step) / double(step));
      char progress[48];
      std::snprintf(progress, sizeof progress, "%lld/%lld", static_cast<long long>(done), static_cast<long long>(C));
      std::printf("%-8s %-9s %9s %10lld %9.4f %9.4f %8s  %s\n", id.c_str(), p.status.c_str(), progress,
                  static_cast<long long>(step), train, test, duration(p.wall_seconds).c_str(), tail.c_str());
    }
    std::printf("total:");
    for (const auto& [status, n] : counts) std::printf(" %d %s", n, status.c_str());
    std::printf("\n");
    return 0;
  };
}

}  // namespace grokscope::cli
