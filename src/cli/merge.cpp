// grokscope merge OUT IN...: combines results files written by separate jobs of one study (e.g.
// Slurm array tasks, each of which trained part of the grid) into one file.
//
// Checks that every input belongs to the same study (format version, study fingerprint = the
// resolved config without output paths, the same run ids) and takes each run from the input that
// got furthest with it (finished before unfinished, then the most completed checkpoints). The copy
// is object-for-object (H5Ocopy) by rank 0: the work is I/O-bound and serial copies keep the file
// byte-identical in content to its sources; other ranks of an MPI job wait. OUT is written under a
// temporary name and renamed when complete; an existing OUT is refused.
#include <cstdio>
#include <filesystem>
#include <set>

#include "commands.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/io/hdf5.hpp"
#include "grokscope/io/results_file.hpp"

namespace fs = std::filesystem;

namespace grokscope::cli {
namespace {

int rank_of(const RunProgress& p) {
  const bool finished = p.status == "done" || p.status == "diverged" || p.status == "failed";
  return (finished ? 1 << 30 : 0) + static_cast<int>(p.completed);
}

void merge(const std::string& out, const std::vector<std::string>& inputs) {
  if (fs::exists(out)) throw UsageError(out + " already exists; merge writes a new file");
  std::vector<ResultsFile> files;
  for (const auto& path : inputs) files.push_back(ResultsFile::open(path, false));
  const std::string fingerprint = files.front().fingerprint();
  const auto ids = files.front().run_ids();
  for (std::size_t i = 1; i < files.size(); ++i) {
    if (files[i].fingerprint() != fingerprint)
      throw InputError(inputs[i], "belongs to another study than " + inputs.front() +
                                      " (study fingerprint " + files[i].fingerprint() + " vs " + fingerprint +
                                      "; the configs differ)");
    if (files[i].run_ids() != ids) throw InputError(inputs[i], "holds other runs than " + inputs.front());
  }
  const std::string partial = out + ".partial";
  {
    const h5::File target = h5::File::create(partial);
    const h5::File& first = files.front().file();
    h5::copy_attributes(first, target, "/");
    for (const auto& name : h5::children(first, "/"))
      if (name != "runs") h5::copy_object(first, "/" + name, target, "/" + name);
    h5::create_group(target, "/runs");
    for (const auto& id : ids) {
      std::size_t best = 0;
      for (std::size_t i = 1; i < files.size(); ++i)
        if (rank_of(files[i].progress(id)) > rank_of(files[best].progress(id))) best = i;
      h5::copy_object(files[best].file(), "/runs/" + id, target, "/runs/" + id);
    }
    h5::set_attribute(target, "/", "merged_from", std::to_string(inputs.size()) + " files");
  }
  fs::rename(partial, out);
}

}  // namespace

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
        merge(args->out, args->inputs);
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
