#pragma once
// The study's results file (docs: results-file.md in the design notes, README "Results file").
//
// Life cycle, and why: every group, dataset and attribute is created COLLECTIVELY before any run
// trains (ResultsFile::create, from the grid and the schedule), with early allocation and NaN fill,
// then flushed. From then on rank groups progress at their own pace and only write raw data,
// independently: a checkpoint is a few hyperslab writes and the run's `completed` counter last.
// A kill can therefore never leave metadata half-written; the file is built under a temporary name
// and renamed into place, so a kill during set-up leaves no file at all.
#include <mpi.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "grokscope/io/hdf5.hpp"

namespace grokscope {

inline constexpr std::int64_t kResultsFormatVersion = 1;

// One per-checkpoint dataset of a run: shape (C, row_shape...), relative path inside the run group.
struct SeriesSpec {
  std::string path;  // e.g. "metrics/test_accuracy", "ntk/train/kernel"
  h5::Type type = h5::Type::Float64;
  std::vector<hsize_t> row_shape;  // empty for a scalar per checkpoint
  std::string definition;          // one line, stored as an attribute
  std::string unit;                // stored when not empty
};

struct RunLayout {
  std::string id;                                             // "r000017"
  std::vector<std::pair<std::string, std::string>> attributes;  // resolved hyperparameters
  std::vector<std::int64_t> steps;                            // the checkpoint schedule
  std::vector<std::string> layers;                            // geometry layers, in model order
  std::vector<SeriesSpec> series;
  std::string inputs;  // the group holding this run's probe and manifold inputs ("/" or "/inputs/k")
};

// Exact inputs stored next to the metrics: the NTK probe sets and the manifold points.
struct InputArray {
  std::string path;  // relative to the inputs group, e.g. "probes/train/x"
  std::vector<float> x;
  std::vector<hsize_t> shape;
  std::vector<std::int64_t> labels;  // used when x is empty: an int64 vector
};
struct InputSet {
  std::string group;  // "/" or "/inputs/k"
  std::vector<InputArray> arrays;
};

struct StudyLayout {
  std::string config_yaml;   // fully resolved
  std::string command_line;
  std::string fingerprint;   // identifies the study (config without output paths); merge checks it
  std::vector<RunLayout> runs;
  std::vector<InputSet> inputs;
};

// Values of one checkpoint, by path relative to the run group.
struct CheckpointValues {
  std::vector<std::pair<std::string, double>> scalars;
  std::vector<std::pair<std::string, std::vector<double>>> arrays;  // row-major, one row of the series
};

struct RunProgress {
  std::int64_t completed = 0;
  std::string status;  // pending | running | done | diverged | failed
  std::string error;
  double wall_seconds = 0;
};

class ResultsFile {
 public:
  // Collective over `comm`. Creates `path` with every object of `layout`; refuses an existing path.
  static ResultsFile create(const std::string& path, const StudyLayout& layout, MPI_Comm comm);
  // Collective over `comm` (MPI_COMM_NULL: serial). Checks the format attributes.
  static ResultsFile open(const std::string& path, bool writable, MPI_Comm comm = MPI_COMM_NULL);

  const h5::File& file() const { return file_; }
  std::string config_yaml() const;
  std::string fingerprint() const;
  std::vector<std::string> run_ids() const;

  // Independent (raw data only) from here on.
  RunProgress progress(const std::string& run_id) const;
  std::vector<std::int64_t> steps(const std::string& run_id) const;
  void write_checkpoint(const std::string& run_id, std::size_t index, const CheckpointValues& values);
  void set_completed(const std::string& run_id, std::int64_t completed);
  void set_status(const std::string& run_id, const std::string& status, const std::string& error,
                  double wall_seconds);
  void set_instabilities(const std::string& run_id, const std::vector<std::int64_t>& steps);
  // Seconds per phase (kTimingPhases) of the process that finished the run.
  void set_timings(const std::string& run_id, const std::vector<std::pair<std::string, double>>& seconds);

  void close();  // collective

 private:
  h5::File file_;
};

// Room for instability events per run: events/instability is a fixed-size float64 dataset of steps,
// NaN-padded, with events/instability_count next to it, so recording one is raw data, not a dataset
// extension (extensions are collective).
inline constexpr hsize_t kMaxInstabilityEvents = 256;

inline constexpr const char* kTimingPhases[] = {"train", "evaluate", "ntk", "geometry", "results", "state"};

}  // namespace grokscope
