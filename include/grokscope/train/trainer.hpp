#pragma once
// One training run of a grid point: builds the model, trains it, and at each scheduled checkpoint
// measures losses, accuracies and weight norms, saves the model/optimizer state atomically and
// hands the record to the caller. Resuming from that state continues bit-exactly.
//
// Torch-free header on purpose: the CLI and the results writer include it without paying
// LibTorch's compile time.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "grokscope/core/grid.hpp"
#include "grokscope/data/dataset.hpp"
#include "grokscope/dist/communicator.hpp"

namespace grokscope {

struct CheckpointRecord {
  std::int64_t step = 0;
  double train_loss = 0, train_accuracy = 0, test_loss = 0, test_accuracy = 0;
  double weight_norm = 0;               // sqrt of the sum of squares of every parameter
  std::vector<double> layer_norms;      // per linear layer (weights and bias together)
  double wall_seconds = 0;              // since the run (first) started
  // Further metrics by results-file path, e.g. "ntk/train/distance_init" (NaN when undefined).
  std::vector<std::pair<std::string, double>> metrics;
  // Array-valued metrics by path (per-manifold values, stored kernels and parameters). Handed to
  // on_checkpoint only; not kept in the run state (the results file holds them).
  std::vector<std::pair<std::string, std::vector<double>>> arrays;
};

struct RunOutcome {
  std::string status;  // done | diverged | failed | interrupted (stop requested: state saved at that step)
  std::string error;   // message for diverged / failed
  std::vector<CheckpointRecord> records;
  std::vector<std::int64_t> instability_steps;
  std::vector<std::string> layer_norm_names;
  double wall_seconds = 0;
  // Seconds of this process per phase: train (optimizer steps), evaluate (losses/accuracies),
  // ntk, geometry, results (the on_checkpoint callback: the file writes), state (saving it).
  std::vector<std::pair<std::string, double>> timings;
};

struct TrainOptions {
  std::string state_path;  // model/optimizer/RNG state, rewritten atomically at each checkpoint
  bool resume = false;     // continue from state_path when it exists
  // Called when a checkpoint's record is complete, BEFORE the state is saved: a kill in between
  // makes the resumed run recompute (bit-exactly) a checkpoint the results file already holds,
  // never skip one it lacks.
  std::function<void(const CheckpointRecord&)> on_checkpoint;
  // Called once before the first checkpoint with the names of the per-layer norms (layer_norms order).
  std::function<void(const std::vector<std::string>&)> on_start;
  // Whether this rank writes the state file (one rank per group does; all may read it).
  bool write_state = true;
  // The run's rank group: NTK (and geometry) work is sharded over it. nullptr = this rank alone.
  Communicator* group = nullptr;
  // Where the model, batches, NTK and layer activations live: "cpu" or "cuda" (device_index).
  std::string device = "cpu";
  int device_index = 0;
  // The group's communicator for DEVICE buffers (NCCL on GPUs); nullptr = use `group`. The NTK is
  // reduced over it; geometry (host Eigen buffers) always over `group`.
  Communicator* device_group = nullptr;
  // The cores this rank owns (the thread policy's count, apply_thread_policy): the fused MLP step
  // splits each batch over that many threads, and GLUE its samples.
  int threads = 1;
  // Stop (as if killed) after this many checkpoints in this call; 0 = never. For resume tests.
  std::size_t stop_after_checkpoints = 0;
};

struct DeviceChoice {
  std::string kind = "cpu";  // cpu | cuda
  int index = 0;             // the CUDA device: node-local rank modulo the visible devices
};
// Resolves parallel.device (auto|cpu|cuda) for a rank with this node-local rank. Throws
// ConfigError for cuda when this LibTorch has no CUDA or no device is visible.
DeviceChoice choose_device(const Config& config, int node_rank);

// Thread policy of one rank (see core/runtime.hpp): LibTorch intra-op threads = 1, BLAS = threads.
void apply_thread_policy(int threads);

// Trains `run` on `data`. Divergence (NaN/inf loss) ends with status "diverged"; other errors in
// the run end with status "failed" and the message (they do not escape), except bad input to
// resume (another config's or a corrupt state file), which throws before anything is written.
RunOutcome train_run(const RunPoint& run, const Datasets& data, const TrainOptions& options);

}  // namespace grokscope
