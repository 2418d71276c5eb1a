// grokscope merge OUT IN...: combines results files written by separate jobs of one study (e.g.
// Slurm array tasks, each of which trained part of the grid) into one file.
//
// Checks that every input belongs to the same study (format version, study fingerprint = the
// resolved config without output paths, the same run ids) and takes each run from the input that
// got furthest with it (io/merge.hpp). Rank 0 does the copying; other ranks of an MPI job wait.
#include <cstdio>

#include "commands.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/io/merge.hpp"

namespace grokscope::cli {

Command add_merge(CLI::App& app, MpiEnvironment& mpi) {
  struct Args {
    std::string out;
    std::vector<std::string> inputs;
  };
  auto args = std::make_shared<Args>();
  app.add_option("out", args->out, "merged results file to write")->required();
  app.add_option("inputs", args->inputs, "results files of the same study")->required();
  app.footer("Example:\n  grokscope merge results/study.h5 results/task-*.h5");
  return [args, &mpi]() {
    int verdict = 0;
    std::string message;
    if (mpi.world_rank() == 0) {
      try {
        merge_results(args->out, args->inputs);
        std::printf("grokscope merge: %zu file(s) -> %s\n", args->inputs.size(), args->out.c_str());
      } catch (const InputError& e) {
        verdict = 3;
        message = e.what();
      } catch (const std::exception& e) {
        verdict = 2;
        message = e.what();
      }
    }
    MPI_Bcast(&verdict, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (verdict != 0 && mpi.world_rank() == 0) std::fprintf(stderr, "grokscope: error: %s\n", message.c_str());
    return verdict;
  };
}

}  // namespace grokscope::cli
