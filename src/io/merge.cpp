#include "grokscope/io/merge.hpp"

#include <filesystem>

#include "grokscope/core/error.hpp"
#include "grokscope/io/hdf5.hpp"
#include "grokscope/io/results_file.hpp"

namespace fs = std::filesystem;

namespace grokscope {
namespace {
int rank_of(const RunProgress& p) {
  const bool finished = p.status == "done" || p.status == "diverged" || p.status == "failed";
  return (finished ? 1 << 30 : 0) + static_cast<int>(p.completed);
}

}  // namespace

void merge_results(const std::string& out, const std::vector<std::string>& inputs, bool replace) {
  if (inputs.empty()) throw UsageError("merge: no input files");
  if (fs::exists(out) && !replace) throw UsageError(out + " already exists; merge writes a new file");
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
  fs::remove(partial);  // left by a merge that was killed
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

}  // namespace grokscope
