#include "grokscope/io/results_file.hpp"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>

#include "grokscope/core/error.hpp"
#include "grokscope/version.hpp"

namespace grokscope {
namespace {

constexpr std::size_t kStatusSize = 16, kErrorSize = 1024;

std::string run_path(const std::string& id) { return "/runs/" + id; }

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

void define(const h5::File& f, const std::string& path, const std::string& definition, const std::string& unit = "") {
  h5::set_attribute(f, path, "definition", definition);
  if (!unit.empty()) h5::set_attribute(f, path, "unit", unit);
}

void create_run(const h5::File& f, const RunLayout& run) {
  const std::string root = run_path(run.id);
  h5::create_group(f, root);
  for (const auto& [key, value] : run.attributes) h5::set_attribute(f, root, key, value);
  std::string layers;
  for (const auto& l : run.layers) layers += (layers.empty() ? "" : ",") + l;
  h5::set_attribute(f, root, "layers", layers);
  h5::set_attribute(f, root, "inputs", run.inputs);
  const hsize_t C = run.steps.size();

  h5::create_dataset(f, root + "/steps", h5::Type::Int64, {{C}});
  define(f, root + "/steps", "the checkpoint schedule", "optimizer steps");
  h5::create_dataset(f, root + "/completed", h5::Type::Int64, {});
  define(f, root + "/completed", "checkpoints fully written; written last, the resume point");
  h5::create_dataset(f, root + "/status", h5::Type::String, {}, kStatusSize);
  define(f, root + "/status", "pending | running | done | diverged | failed");
  h5::create_dataset(f, root + "/error", h5::Type::String, {}, kErrorSize);
  define(f, root + "/error", "the message of a diverged or failed run; empty otherwise");
  h5::create_dataset(f, root + "/wall_seconds", h5::Type::Float64, {});
  define(f, root + "/wall_seconds", "wall time spent on the run so far", "s");
  h5::create_dataset(f, root + "/events/instability", h5::Type::Float64, {{kMaxInstabilityEvents}});
  define(f, root + "/events/instability",
         "steps of training-loss spikes (>100x the running minimum) or train-accuracy drops after 100%; "
         "NaN-padded");
  h5::create_dataset(f, root + "/events/instability_count", h5::Type::Int64, {});
  define(f, root + "/events/instability_count", "instability events seen (may exceed the stored ones)");

  for (const char* phase : kTimingPhases) {
    const std::string path = root + "/timing/" + phase;
    h5::create_dataset(f, path, h5::Type::Float64, {});
    define(f, path, std::string("seconds spent in phase '") + phase + "' by the process that finished the run", "s");
  }

  for (const auto& s : run.series) {
    h5::Shape shape{{C}};
    shape.dims.insert(shape.dims.end(), s.row_shape.begin(), s.row_shape.end());
    h5::create_dataset(f, root + "/" + s.path, s.type, shape);
    define(f, root + "/" + s.path, s.definition, s.unit);
  }
}

void create_inputs(const h5::File& f, const InputSet& set) {
  const std::string base = set.group == "/" ? "" : set.group;
  for (const auto& a : set.arrays) {
    const std::string path = base + "/" + a.path;
    if (!a.x.empty()) h5::create_dataset(f, path, h5::Type::Float32, {a.shape});
    else h5::create_dataset(f, path, h5::Type::Int64, {{hsize_t(a.labels.size())}});
  }
}

}  // namespace

ResultsFile ResultsFile::create(const std::string& path, const StudyLayout& layout, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  // Built under a temporary name and renamed when complete: a kill during set-up leaves no
  // half-made results file behind, only a .partial that the next attempt overwrites.
  const std::string partial = path + ".partial";
  ResultsFile out;
  out.file_ = h5::File::create(partial, comm);
  const h5::File& f = out.file_;
  h5::set_attribute(f, "/", "format", std::string("grokscope"));
  h5::set_attribute(f, "/", "format_version", kResultsFormatVersion);
  h5::set_attribute(f, "/", "grokscope_version", std::string(GROKSCOPE_VERSION));
  h5::set_attribute(f, "/", "created_utc", utc_now());
  h5::set_attribute(f, "/", "command_line", layout.command_line);
  h5::set_attribute(f, "/", "config_yaml", layout.config_yaml);
  h5::set_attribute(f, "/", "study_fingerprint", layout.fingerprint);
  h5::set_attribute(f, "/", "cosines", std::string("alignments use |cos| (absolute cosines)"));
  h5::create_group(f, "/runs");
  for (const auto& set : layout.inputs) create_inputs(f, set);
  for (const auto& run : layout.runs) create_run(f, run);
  out.file_.flush();
  // Raw data that is the same for everyone: written once, by rank 0, independently.
  if (rank == 0) {
    for (const auto& set : layout.inputs)
      for (const auto& a : set.arrays) {
        const std::string p = (set.group == "/" ? "" : set.group) + "/" + a.path;
        if (!a.x.empty()) h5::write_rows(f, p, 0, a.shape[0], a.x.data());
        else if (!a.labels.empty()) h5::write_rows(f, p, 0, a.labels.size(), a.labels.data());
      }
    for (const auto& run : layout.runs) {
      h5::write_rows(f, run_path(run.id) + "/steps", 0, run.steps.size(), run.steps.data());
      h5::write_string(f, run_path(run.id) + "/status", "pending");
    }
  }
  out.file_.close();
  MPI_Barrier(comm);
  if (rank == 0) std::filesystem::rename(partial, path);
  MPI_Barrier(comm);
  return open(path, true, comm);
}

ResultsFile ResultsFile::open(const std::string& path, bool writable, MPI_Comm comm) {
  ResultsFile out;
  out.file_ = h5::File::open(path, writable, comm);
  if (!h5::has_attribute(out.file_, "/", "format") || h5::string_attribute(out.file_, "/", "format") != "grokscope")
    throw InputError(path, "not a grokscope results file (no format=\"grokscope\" attribute)");
  const std::int64_t version = h5::int_attribute(out.file_, "/", "format_version");
  if (version != kResultsFormatVersion)
    throw InputError(path, "results format version " + std::to_string(version) + ", this grokscope reads " +
                               std::to_string(kResultsFormatVersion));
  return out;
}

std::string ResultsFile::config_yaml() const { return h5::string_attribute(file_, "/", "config_yaml"); }
std::string ResultsFile::fingerprint() const { return h5::string_attribute(file_, "/", "study_fingerprint"); }
std::vector<std::string> ResultsFile::run_ids() const { return h5::children(file_, "/runs"); }

RunProgress ResultsFile::progress(const std::string& run_id) const {
  const std::string root = run_path(run_id);
  RunProgress p;
  p.completed = h5::read_ints(file_, root + "/completed").at(0);
  p.status = h5::read_string(file_, root + "/status");
  p.error = h5::read_string(file_, root + "/error");
  p.wall_seconds = h5::read_doubles(file_, root + "/wall_seconds").at(0);
  return p;
}

std::vector<std::int64_t> ResultsFile::steps(const std::string& run_id) const {
  return h5::read_ints(file_, run_path(run_id) + "/steps");
}

void ResultsFile::write_checkpoint(const std::string& run_id, std::size_t index, const CheckpointValues& values) {
  const std::string root = run_path(run_id) + "/";
  for (const auto& [path, value] : values.scalars) h5::write_rows(file_, root + path, index, 1, &value);
  for (const auto& [path, row] : values.arrays) {
    const h5::Shape shape = h5::shape_of(file_, root + path);
    if (row.size() != shape.row_elements())
      throw UsageError("checkpoint value " + path + " has " + std::to_string(row.size()) + " elements, the file expects " +
                       std::to_string(shape.row_elements()));
    h5::write_rows(file_, root + path, index, 1, row.data());
  }
}

void ResultsFile::set_completed(const std::string& run_id, std::int64_t completed) {
  h5::write_rows(file_, run_path(run_id) + "/completed", 0, 1, &completed);
}

void ResultsFile::set_status(const std::string& run_id, const std::string& status, const std::string& error,
                             double wall_seconds) {
  const std::string root = run_path(run_id);
  h5::write_string(file_, root + "/error", error);
  h5::write_rows(file_, root + "/wall_seconds", 0, 1, &wall_seconds);
  h5::write_string(file_, root + "/status", status);
}

void ResultsFile::set_instabilities(const std::string& run_id, const std::vector<std::int64_t>& steps) {
  const std::string root = run_path(run_id) + "/events/";
  std::vector<double> padded(kMaxInstabilityEvents, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < steps.size() && i < padded.size(); ++i) padded[i] = double(steps[i]);
  h5::write_rows(file_, root + "instability", 0, padded.size(), padded.data());
  const std::int64_t count = static_cast<std::int64_t>(steps.size());
  h5::write_rows(file_, root + "instability_count", 0, 1, &count);
}

void ResultsFile::set_timings(const std::string& run_id, const std::vector<std::pair<std::string, double>>& seconds) {
  for (const auto& [phase, value] : seconds) h5::write_rows(file_, run_path(run_id) + "/timing/" + phase, 0, 1, &value);
}

void ResultsFile::close() { file_.close(); }

}  // namespace grokscope
