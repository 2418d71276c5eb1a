#pragma once
// Onset times of a metric curve and the seed statistics of the report (metrics.md §6). Pure
// functions: no HDF5, no I/O.
//
// The onset rule, exactly. Input: the checkpoint steps (strictly increasing, >= 0) and the values
// of the run's valid checkpoints (the caller keeps the first `completed` ones).
//  1. Points whose value is not finite are left out (NaN means "not computed at this checkpoint" in
//     the results file; ±inf only follows a divergence). n = points left; n < 2: TooShort.
//  2. Baseline y0 = the first point's value; final y1 = mean of the last min(3, n) values;
//     change Δ = y1 − y0 (negative for a falling curve, e.g. a dimension).
//  3. No rise (NoRise) when any of
//       |Δ| <= 1e-9·max(1, |y0|)          nothing moved (numerically),
//       |Δ| <  0.25·(max y − min y)       the curve wanders more than it ends up moving, so "a
//                                         fraction of its rise" has no meaning (a transient),
//       |Δ| <  4·σ̂   (only when n >= 5)   the change is within the noise. σ̂ is the mean of two
//                                         robust noise scales, median|first differences|/(0.6745·√2)
//                                         and median|second differences|/(0.6745·√6); each is
//                                         ≈ σ for white noise, the second is 0 on a straight ramp
//                                         and the first 0 on a step, so neither shape is mistaken
//                                         for noise. A flat curve with white noise passes this
//                                         test with a probability of about 1% (12 points) to 0.5%
//                                         (20 points).
//  4. Progress p_i = (y_i − y0)/Δ. The onset at fraction f is at the first point i with p_i >= f
//     (there always is one for f <= 1, since the last points average p = 1), linearly interpolated
//     in x = log10(step) between point i−1 and point i: x = x_{i−1} + (f − p_{i−1})/(p_i − p_{i−1})
//     · (x_i − x_{i−1}), onset = 10^x. When step_{i−1} is 0 (log undefined) the onset is step_i.
#include <cstdint>
#include <limits>
#include <vector>

namespace grokscope {

inline const std::vector<double> kOnsetFractions = {0.1, 0.5, 0.9};

enum class RiseStatus { Ok, TooShort, NoRise };

struct Onset {
  double step = std::numeric_limits<double>::quiet_NaN();  // NaN when undefined
  // Steps of the two points the crossing lies between (step_{i−1}, step_i); -1 when undefined.
  std::int64_t before = -1, after = -1;
  bool defined() const { return step == step; }
};

struct Rise {
  RiseStatus status = RiseStatus::TooShort;
  double baseline = std::numeric_limits<double>::quiet_NaN();     // y0
  double final_value = std::numeric_limits<double>::quiet_NaN();  // y1
  double noise = 0;                                               // σ̂ (0 when n < 5)
  std::vector<Onset> onsets;  // one per requested fraction, all undefined unless status is Ok
};

// Throws UsageError when the sizes differ, a step is negative or the steps do not increase.
Rise rise_onsets(const std::vector<std::int64_t>& steps, const std::vector<double>& values,
                 const std::vector<double>& fractions = kOnsetFractions);
Onset onset(const std::vector<std::int64_t>& steps, const std::vector<double>& values, double fraction);

// Median (mean of the two middle values for an even count); NaN when empty. NaNs are not allowed.
double median(std::vector<double> values);
// Percentile q in [0, 1] of sorted values, linear between order statistics (numpy's default).
double sorted_percentile(const std::vector<double>& sorted, double q);

struct Interval {
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
};

inline constexpr std::uint64_t kBootstrapSeed = 20240611;

// Percentile bootstrap interval of the median: `resamples` resamples of the values with
// replacement (indices from RandomStream(seed), so the result is the same on every platform), the
// median of each, and their (1−level)/2 and (1+level)/2 percentiles. One value gives [x, x];
// none gives NaNs.
Interval bootstrap_median_interval(const std::vector<double>& values, int resamples = 2000,
                                   double level = 0.95, std::uint64_t seed = kBootstrapSeed);

}  // namespace grokscope
