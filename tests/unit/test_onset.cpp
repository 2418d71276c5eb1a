#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "grokscope/core/error.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/report/onset.hpp"

using namespace grokscope;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Step 0 and round(10^(k/per_decade)) up to 10^decades, without duplicates: the shape of a
// grokscope checkpoint schedule.
std::vector<std::int64_t> log_schedule(int per_decade, int decades) {
  std::vector<std::int64_t> steps = {0};
  for (int k = 0; k <= per_decade * decades; ++k) {
    const auto s = std::int64_t(std::llround(std::pow(10.0, double(k) / per_decade)));
    if (s > steps.back()) steps.push_back(s);
  }
  return steps;
}

double logistic(double x) {
  return 1 / (1 + std::exp(-x));
}

// A sigmoid in log10(step) from `low` to `high` with midpoint 10^mid and width w (in decades).
std::vector<double> sigmoid(const std::vector<std::int64_t>& steps, double low, double high, double mid,
                            double w) {
  std::vector<double> y;
  for (auto s : steps)
    y.push_back(s == 0 ? low : low + (high - low) * logistic((std::log10(double(s)) - mid) / w));
  return y;
}

double decades_between(double a, double b) {
  return std::fabs(std::log10(a) - std::log10(b));
}

}  // namespace

TEST(Onset, LogisticInLogStepHasItsMidpointAsTheHalfOnset) {
  const auto steps = log_schedule(8, 5);
  const double mid = 2.7, w = 0.15;
  const Rise rise = rise_onsets(steps, sigmoid(steps, 0.1, 0.95, mid, w));
  ASSERT_EQ(rise.status, RiseStatus::Ok);
  ASSERT_EQ(rise.onsets.size(), 3u);
  // p = logistic((x − mid)/w) up to the tails (the final value is 1 − 1e-9 of the rise), so the
  // fraction-f onset is at x = mid + w·ln(f/(1−f)); linear interpolation on a 1/8-decade grid
  // is within 0.02 decades of it.
  const double fractions[] = {0.1, 0.5, 0.9};
  for (int k = 0; k < 3; ++k) {
    const double f = fractions[k];
    const double expected = std::pow(10.0, mid + w * std::log(f / (1 - f)));
    ASSERT_TRUE(rise.onsets[k].defined());
    EXPECT_LT(decades_between(rise.onsets[k].step, expected), 0.02) << "fraction " << f;
    EXPECT_LE(rise.onsets[k].before, rise.onsets[k].step);
    EXPECT_GE(rise.onsets[k].after, rise.onsets[k].step);
  }
  EXPECT_NEAR(rise.baseline, 0.1, 1e-12);
  EXPECT_NEAR(rise.final_value, 0.95, 1e-6);
}

TEST(Onset, FallingCurveIsTimedByTheFractionOfItsFall) {
  // A dimension that falls from 10 to 4: the 10% onset is where 10% of the fall is done (y = 9.4).
  const auto steps = log_schedule(10, 5);
  const double mid = 3.2, w = 0.2;
  const Rise rise = rise_onsets(steps, sigmoid(steps, 10, 4, mid, w));
  ASSERT_EQ(rise.status, RiseStatus::Ok);
  EXPECT_LT(decades_between(rise.onsets[0].step, std::pow(10.0, mid + w * std::log(0.1 / 0.9))), 0.02);
  EXPECT_LT(decades_between(rise.onsets[1].step, std::pow(10.0, mid)), 0.02);
  EXPECT_LT(decades_between(rise.onsets[2].step, std::pow(10.0, mid + w * std::log(0.9 / 0.1))), 0.02);
  EXPECT_LT(rise.onsets[0].step, rise.onsets[1].step);
  EXPECT_LT(rise.onsets[1].step, rise.onsets[2].step);
}

TEST(Onset, StepFunctionInterpolatesBetweenTheTwoCheckpointsAroundTheJump) {
  const std::vector<std::int64_t> steps = {0, 1, 10, 100, 1000, 10000, 100000};
  const std::vector<double> y = {0, 0, 0, 0, 1, 1, 1};
  const Rise rise = rise_onsets(steps, y, {0.1, 0.5, 0.9, 1.0});
  ASSERT_EQ(rise.status, RiseStatus::Ok);
  // p jumps from 0 at step 100 to 1 at step 1000: fraction f is at x = 2 + f.
  const double fractions[] = {0.1, 0.5, 0.9, 1.0};
  for (int k = 0; k < 4; ++k) {
    EXPECT_NEAR(rise.onsets[k].step, std::pow(10.0, 2 + fractions[k]),
                1e-9 * std::pow(10.0, 2 + fractions[k]));
    EXPECT_EQ(rise.onsets[k].before, 100);
    EXPECT_EQ(rise.onsets[k].after, 1000);
  }
}

TEST(Onset, InterpolationIsExactOnAPiecewiseLinearCurveInLogStep) {
  // y = clamp(log10(step) − 1, 0, 2): linear in x between checkpoints (the kinks at steps 10 and
  // 1000 are checkpoints), baseline 0, final 2, so p = (x − 1)/2 and the f-onset is 10^(1 + 2f).
  const auto steps = log_schedule(4, 4);
  std::vector<double> y;
  for (auto s : steps) y.push_back(s == 0 ? 0.0 : std::clamp(std::log10(double(s)) - 1, 0.0, 2.0));
  const std::vector<double> fractions = {0.1, 0.25, 0.5, 0.73, 0.9};
  const Rise rise = rise_onsets(steps, y, fractions);
  ASSERT_EQ(rise.status, RiseStatus::Ok);
  for (std::size_t k = 0; k < fractions.size(); ++k) {
    const double expected = std::pow(10.0, 1 + 2 * fractions[k]);
    EXPECT_NEAR(rise.onsets[k].step, expected, 1e-9 * expected) << "fraction " << fractions[k];
    EXPECT_EQ(onset(steps, y, fractions[k]).step, rise.onsets[k].step);
  }
}

TEST(Onset, CrossingRightAfterStepZeroIsReportedAtTheFirstPositiveStep) {
  // log10(0) is undefined: a crossing between step 0 and step 1 is at step 1.
  const std::vector<std::int64_t> steps = {0, 1, 2, 4, 8, 16};
  const std::vector<double> y = {0, 0.8, 0.9, 1, 1, 1};
  const Onset o = onset(steps, y, 0.5);
  EXPECT_EQ(o.step, 1.0);
  EXPECT_EQ(o.before, 0);
  EXPECT_EQ(o.after, 1);
  // Between steps 1 and 2 (p from 0.8 to 0.9) the interpolation is in log step again: halfway in
  // progress is halfway in log10(step), √2.
  EXPECT_NEAR(onset(steps, y, 0.85).step, std::sqrt(2.0), 1e-12);
}

TEST(Onset, FlatCurvesHaveNoRise) {
  const auto steps = log_schedule(4, 4);
  EXPECT_EQ(rise_onsets(steps, std::vector<double>(steps.size(), 0.42)).status, RiseStatus::NoRise);
  // Rounding-level wobble on a flat curve is not a rise.
  std::vector<double> wobble(steps.size(), 1e6);
  wobble.back() += 1e-4;
  EXPECT_EQ(rise_onsets(steps, wobble).status, RiseStatus::NoRise);
  for (const Onset& o : rise_onsets(steps, wobble).onsets) EXPECT_FALSE(o.defined());
}

TEST(Onset, FlatNoisyCurvesAlmostNeverRise) {
  // 20 checkpoints of white noise around 0.5: the documented false-rise rate is ≈ 0.5%.
  const auto steps = log_schedule(4, 4);
  ASSERT_EQ(steps.size(), 18u);
  int defined = 0;
  const int curves = 1000;
  for (int c = 0; c < curves; ++c) {
    RandomStream rng(7, {std::uint64_t(c)});
    std::vector<double> y;
    for (std::size_t i = 0; i < steps.size(); ++i) y.push_back(0.5 + 0.01 * rng.normal());
    const Rise rise = rise_onsets(steps, y);
    if (rise.status == RiseStatus::Ok)
      ++defined;
    else
      for (const Onset& o : rise.onsets) EXPECT_FALSE(o.defined());
  }
  EXPECT_LE(defined, curves / 50) << defined << " of " << curves << " flat noisy curves had an onset";
}

TEST(Onset, NoisyRiseStillHasItsMidpoint) {
  // The same noise on top of a real rise of 0.8 (noise/rise = 1/40) does not hide it.
  const auto steps = log_schedule(8, 5);
  const double mid = 3.0, w = 0.2;
  for (int c = 0; c < 100; ++c) {
    RandomStream rng(11, {std::uint64_t(c)});
    std::vector<double> y = sigmoid(steps, 0.1, 0.9, mid, w);
    for (double& v : y) v += 0.02 * rng.normal();
    const Rise rise = rise_onsets(steps, y);
    ASSERT_EQ(rise.status, RiseStatus::Ok) << "curve " << c;
    EXPECT_LT(decades_between(rise.onsets[1].step, std::pow(10.0, mid)), 0.15) << "curve " << c;
  }
}

TEST(Onset, TransientThatReturnsIsNoRise) {
  // Up by 1 and back to +0.1: the net change is under a quarter of the excursion.
  const auto steps = log_schedule(4, 4);
  std::vector<double> y;
  for (auto s : steps) {
    const double x = s == 0 ? 0 : std::log10(double(s));
    y.push_back(0.1 * x / 4 + std::exp(-(x - 2) * (x - 2) / 0.1));
  }
  EXPECT_EQ(rise_onsets(steps, y).status, RiseStatus::NoRise);
}

TEST(Onset, TooFewPointsAndNotComputedValues) {
  EXPECT_EQ(rise_onsets({}, {}).status, RiseStatus::TooShort);
  EXPECT_EQ(rise_onsets({10}, {1.0}).status, RiseStatus::TooShort);
  EXPECT_EQ(rise_onsets({1, 10, 100}, {kNaN, 1.0, kNaN}).status, RiseStatus::TooShort);
  EXPECT_FALSE(onset({1, 10, 100}, {kNaN, kNaN, kNaN}, 0.5).defined());
  // Two points are enough: final = mean of both, so the rise is half the jump and p_1 = 2.
  const Onset two = onset({10, 1000}, {0.0, 1.0}, 0.5);
  EXPECT_NEAR(two.step, std::pow(10.0, 1 + 2 * 0.25), 1e-9);
}

TEST(Onset, NotComputedCheckpointsAreLeftOut) {
  // NaN = not computed: the onset is that of the curve without those checkpoints.
  const auto steps = log_schedule(8, 5);
  std::vector<double> y = sigmoid(steps, 0, 1, 2.5, 0.3);
  std::vector<std::int64_t> kept_steps;
  std::vector<double> kept;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (i % 3 == 1 || i == 0) {
      y[i] = kNaN;
      continue;
    }
    kept_steps.push_back(steps[i]);
    kept.push_back(y[i]);
  }
  const Rise with_nan = rise_onsets(steps, y), without = rise_onsets(kept_steps, kept);
  ASSERT_EQ(with_nan.status, RiseStatus::Ok);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(with_nan.onsets[k].step, without.onsets[k].step);
  EXPECT_EQ(with_nan.baseline, kept.front());
}

TEST(Onset, RefusesMalformedInput) {
  EXPECT_THROW(rise_onsets({1, 2}, {1.0}), UsageError);
  EXPECT_THROW(rise_onsets({1, 1, 2}, {0.0, 1.0, 2.0}), UsageError);
  EXPECT_THROW(rise_onsets({-1, 1}, {0.0, 1.0}), UsageError);
  EXPECT_THROW(onset({1, 2}, {0.0, 1.0}, 0.0), UsageError);
  EXPECT_THROW(onset({1, 2}, {0.0, 1.0}, 1.5), UsageError);
}

TEST(Statistics, MedianAndPercentile) {
  EXPECT_TRUE(std::isnan(median({})));
  EXPECT_EQ(median({3}), 3);
  EXPECT_EQ(median({5, 1, 3}), 3);
  EXPECT_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_THROW(median({1, kNaN}), UsageError);
  const std::vector<double> sorted = {1, 2, 3, 4};
  EXPECT_EQ(sorted_percentile(sorted, 0), 1);
  EXPECT_EQ(sorted_percentile(sorted, 1), 4);
  EXPECT_DOUBLE_EQ(sorted_percentile(sorted, 0.25), 1.75);  // numpy.percentile(…, 25)
  EXPECT_DOUBLE_EQ(sorted_percentile(sorted, 0.5), 2.5);
}

TEST(Statistics, BootstrapIntervalOfTheMedian) {
  // Degenerate with one seed, and with identical values; undefined with none.
  Interval one = bootstrap_median_interval({1234.5});
  EXPECT_EQ(one.low, 1234.5);
  EXPECT_EQ(one.high, 1234.5);
  Interval same = bootstrap_median_interval({7, 7, 7, 7});
  EXPECT_EQ(same.low, 7);
  EXPECT_EQ(same.high, 7);
  EXPECT_TRUE(std::isnan(bootstrap_median_interval({}).low));

  // Two seeds a < b: resampled medians are a, (a+b)/2, b with probabilities ¼, ½, ¼, so the 2.5%
  // and 97.5% percentiles are a and b.
  Interval two = bootstrap_median_interval({10, 30});
  EXPECT_EQ(two.low, 10);
  EXPECT_EQ(two.high, 30);

  // Deterministic, the interval holds the median, and its width matches the median's standard
  // error for normal data (1.2533·σ/√n; the 95% interval is ≈ ±1.96 of that).
  for (int c = 0; c < 20; ++c) {
    RandomStream rng(3, {std::uint64_t(c)});
    std::vector<double> v;
    for (int i = 0; i < 50; ++i) v.push_back(rng.normal());
    const Interval a = bootstrap_median_interval(v), b = bootstrap_median_interval(v);
    EXPECT_EQ(a.low, b.low);
    EXPECT_EQ(a.high, b.high);
    const double m = median(v);
    EXPECT_LE(a.low, m);
    EXPECT_GE(a.high, m);
    const double width = a.high - a.low, expected = 2 * 1.96 * 1.2533 / std::sqrt(50.0);
    EXPECT_GT(width, 0.4 * expected);
    EXPECT_LT(width, 2.0 * expected);
    // Another seed resamples differently.
    const Interval other = bootstrap_median_interval(v, 2000, 0.95, kBootstrapSeed + 1);
    EXPECT_TRUE(other.low != a.low || other.high != a.high);
  }
  EXPECT_THROW(bootstrap_median_interval({1, 2}, 0), UsageError);
  EXPECT_THROW(bootstrap_median_interval({1, 2}, 100, 1.0), UsageError);
}
