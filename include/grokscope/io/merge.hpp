#pragma once
// Merging results files of one study written by separate jobs (shards, Slurm array tasks).
#include <string>
#include <vector>

namespace grokscope {

// Writes `out` from `inputs`, which must belong to the same study (format version, study
// fingerprint = the resolved config without output paths, the same run ids; InputError naming
// the odd file otherwise). Each run is taken from the input that got furthest with it: finished
// (done, diverged, failed) before unfinished, then the most completed checkpoints. Copies are
// object-for-object (H5Ocopy) and serial: the work is I/O-bound, and the copy keeps every value
// identical to its source. `out` is written as `out`.partial and renamed when complete; an
// existing `out` is refused (UsageError) unless `replace`, which swaps it atomically.
void merge_results(const std::string& out, const std::vector<std::string>& inputs, bool replace = false);

}  // namespace grokscope
