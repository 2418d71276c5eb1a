#pragma once
// What a run puts in the results file, known before it trains: the measurement inputs (NTK probe
// sets, manifold points) drawn from the data seed, and the run's layout — every per-checkpoint
// series with its shape and definition — derived from the config and the model's layers. The
// results file is created from these layouts collectively before any run starts.
//
// Torch-free header: the CLI includes it.
#include <string>
#include <utility>
#include <vector>

#include "grokscope/core/grid.hpp"
#include "grokscope/data/dataset.hpp"
#include "grokscope/io/results_file.hpp"
#include "grokscope/train/trainer.hpp"

namespace grokscope {

struct MeasurementInputs {
  std::vector<std::pair<std::string, Split>> probes;  // NTK probe sets by name ("train", "test")
  Split manifolds;                                    // held-out points, class-balanced
};

// Deterministic in the data seed: every model seed of a condition is measured on the same inputs.
MeasurementInputs measurement_inputs(const Config& config, const Datasets& data);
// The config values that determine measurement_inputs (runs with equal keys share stored inputs).
std::string inputs_key(const Config& config);
// The inputs as arrays for the results file, under `group` ("/" or "/inputs/k").
InputSet input_set(const MeasurementInputs& inputs, const std::string& group);

RunLayout describe_run(const RunPoint& run, const Datasets& data, const std::string& inputs_group);

// A checkpoint record as values by results-file path.
CheckpointValues checkpoint_values(const CheckpointRecord& record, const std::vector<std::string>& layer_norm_names);

}  // namespace grokscope
