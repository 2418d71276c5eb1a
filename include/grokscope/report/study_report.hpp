#pragma once
// The report of a results file (`grokscope report`): per run and per condition the onset steps of
// the curves that time grokking (metrics.md §6; the rule is in report/onset.hpp) and the delays
// between them, rendered as a text table or as JSON.
//
// Metrics, as dataset paths inside the run group, when present: metrics/train_accuracy,
// metrics/test_accuracy, ntk/<probe>/distance_init per probe, and per layer of the run's `layers`
// attribute geometry/<layer>/mftma/capacity, geometry/<layer>/glue/dimension,
// geometry/<layer>/mftma/dimension. Only the first `completed` checkpoints are read.
//
// Delays, from the 50% onsets: "test_over_train" = t(test accuracy) / t(train accuracy) (the
// grokking headline, ≥ 5 for a clear delay), and "<metric>_over_test" = t(metric) / t(test
// accuracy) for every other metric (< 1: before the test onset). Text shows them in decades too.
//
// Conditions: runs are grouped by their run attributes (every resolved hyperparameter) except the
// ones that differ by seed or say nothing about the training itself: `seed`, `label`, `inputs`,
// `output.*`, `parallel.*` (execution only: device, ranks per run, threads) and
// `train.log_every_seconds`. A condition is named by the dotted keys that vary between the file's
// conditions ("model.init_scale=8 train.weight_decay=0.01"), "all" when there is one condition.
// Its statistics are over its runs with status "done" (others are listed as excluded: their curves
// stop early and would bias the onsets): per metric and delay the median of the 50% values, a 95%
// percentile bootstrap interval (2000 resamples of the seeds, fixed seed) and n, the number of
// runs with a defined value.
//
// Instabilities: a run's events/instability steps; one "coincides with the test onset" when it lies
// in [before, after] of the test-accuracy 50% crossing (the checkpoints around it).
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "grokscope/report/onset.hpp"

namespace grokscope {

struct MetricOnsets {
  std::string path;  // "metrics/test_accuracy"
  RiseStatus status = RiseStatus::TooShort;
  std::vector<Onset> onsets;  // one per StudyReport::fractions
};

struct RunReport {
  std::string id, label, condition, status;
  std::int64_t seed = -1;
  std::int64_t completed = 0;    // valid checkpoints (completed, capped at the schedule length)
  std::int64_t checkpoints = 0;  // schedule length
  std::vector<MetricOnsets> metrics;
  std::vector<std::pair<std::string, double>> delays;  // key -> ratio, NaN when undefined
  std::vector<double> instabilities;                   // stored event steps
  std::int64_t instability_count = 0;                  // events seen (may exceed the stored ones)
  bool instability_at_test_onset = false;
};

struct Summary {
  double median = std::numeric_limits<double>::quiet_NaN();
  Interval interval;
  int n = 0;
};

struct ConditionReport {
  std::string condition;
  std::vector<std::string> runs;                        // every run of the condition
  std::vector<std::string> excluded;                    // runs not "done", left out of the statistics
  std::vector<std::pair<std::string, Summary>> onsets;  // 50% onsets, by metric path
  std::vector<std::pair<std::string, Summary>> delays;
};

struct StudyReport {
  std::string file;
  std::vector<double> fractions = kOnsetFractions;
  std::vector<RunReport> runs;
  std::vector<ConditionReport> conditions;
};

// Throws InputError for a missing, non-HDF5 or non-grokscope file.
StudyReport read_study_report(const std::string& path);
std::string render_text(const StudyReport& report);
std::string render_json(const StudyReport& report);

}  // namespace grokscope
