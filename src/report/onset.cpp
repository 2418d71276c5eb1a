#include "grokscope/report/onset.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "grokscope/core/error.hpp"
#include "grokscope/core/random.hpp"

namespace grokscope {
namespace {

// median |d| of the k-th differences of y, scaled to σ for white noise of standard deviation σ:
// a k-th difference of white noise has standard deviation σ·√C(2k, k), and median|N(0, s²)| = 0.6745·s.
double difference_noise(std::vector<double> y, int order) {
  for (int k = 0; k < order; ++k) {
    for (std::size_t i = 0; i + 1 < y.size(); ++i) y[i] = y[i + 1] - y[i];
    y.pop_back();
  }
  for (double& d : y) d = std::fabs(d);
  const double scale = order == 1 ? std::sqrt(2.0) : std::sqrt(6.0);
  return median(y) / (0.6745 * scale);
}

}  // namespace

Rise rise_onsets(const std::vector<std::int64_t>& steps, const std::vector<double>& values,
                 const std::vector<double>& fractions) {
  if (steps.size() != values.size())
    throw UsageError("onset: " + std::to_string(steps.size()) + " steps but " +
                     std::to_string(values.size()) + " values");
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i] < 0) throw UsageError("onset: negative step " + std::to_string(steps[i]));
    if (i > 0 && steps[i] <= steps[i - 1])
      throw UsageError("onset: steps do not increase at index " + std::to_string(i));
  }
  for (double f : fractions)
    if (!(f > 0 && f <= 1)) throw UsageError("onset: fraction " + std::to_string(f) + " is not in (0, 1]");

  Rise rise;
  rise.onsets.assign(fractions.size(), Onset{});
  std::vector<double> x, y;  // step (as double) and value of the finite points
  for (std::size_t i = 0; i < values.size(); ++i)
    if (std::isfinite(values[i])) {
      x.push_back(double(steps[i]));
      y.push_back(values[i]);
    }
  const std::size_t n = y.size();
  if (n < 2) return rise;  // TooShort

  const std::size_t tail = std::min<std::size_t>(3, n);
  double y1 = 0;
  for (std::size_t i = n - tail; i < n; ++i) y1 += y[i];
  y1 /= double(tail);
  const double y0 = y.front(), delta = y1 - y0;
  rise.baseline = y0;
  rise.final_value = y1;
  const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
  if (n >= 5) rise.noise = 0.5 * (difference_noise(y, 1) + difference_noise(y, 2));
  const double change = std::fabs(delta);
  if (change <= 1e-9 * std::max(1.0, std::fabs(y0)) || change < 0.25 * (*hi - *lo) ||
      change < 4 * rise.noise) {
    rise.status = RiseStatus::NoRise;
    return rise;
  }
  rise.status = RiseStatus::Ok;

  for (std::size_t k = 0; k < fractions.size(); ++k) {
    const double f = fractions[k];
    // p_0 = 0 < f, so the first crossing is at i >= 1; the last points average p = 1 >= f, so one exists.
    std::size_t i = 1;
    while (i < n && (y[i] - y0) / delta < f) ++i;
    if (i == n) continue;  // unreachable for f <= 1 up to rounding; leave undefined rather than guess
    Onset& o = rise.onsets[k];
    o.before = std::int64_t(x[i - 1]);
    o.after = std::int64_t(x[i]);
    if (x[i - 1] <= 0) {
      o.step = x[i];  // log10(0) is undefined: the crossing is reported at the first positive step
      continue;
    }
    const double p0 = (y[i - 1] - y0) / delta, p1 = (y[i] - y0) / delta;
    const double t = (f - p0) / (p1 - p0);  // p0 < f <= p1, so 0 < t <= 1
    const double l0 = std::log10(x[i - 1]), l1 = std::log10(x[i]);
    o.step = std::pow(10.0, l0 + t * (l1 - l0));
  }
  return rise;
}

Onset onset(const std::vector<std::int64_t>& steps, const std::vector<double>& values, double fraction) {
  return rise_onsets(steps, values, {fraction}).onsets.front();
}

double median(std::vector<double> values) {
  const std::size_t n = values.size();
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  for (double v : values)
    if (v != v) throw UsageError("median: NaN among the values");
  const auto mid = values.begin() + std::ptrdiff_t(n / 2);
  std::nth_element(values.begin(), mid, values.end());
  if (n % 2 == 1) return *mid;
  const double upper = *mid;
  const double lower = *std::max_element(values.begin(), mid);
  return 0.5 * (lower + upper);
}

double sorted_percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double pos = std::clamp(q, 0.0, 1.0) * double(sorted.size() - 1);
  const std::size_t i = std::size_t(std::floor(pos));
  if (i + 1 >= sorted.size()) return sorted.back();
  const double t = pos - double(i);
  return sorted[i] + t * (sorted[i + 1] - sorted[i]);
}

Interval bootstrap_median_interval(const std::vector<double>& values, int resamples, double level,
                                   std::uint64_t seed) {
  if (resamples < 1) throw UsageError("bootstrap: resamples must be >= 1");
  if (!(level > 0 && level < 1)) throw UsageError("bootstrap: level must be in (0, 1)");
  Interval out;
  const std::size_t n = values.size();
  if (n == 0) return out;
  RandomStream rng(seed, {stream_tag("bootstrap-median")});
  std::vector<double> medians(static_cast<std::size_t>(resamples)), sample(n);
  for (double& m : medians) {
    for (double& s : sample) s = values[rng.below(n)];
    m = median(sample);
  }
  std::sort(medians.begin(), medians.end());
  out.low = sorted_percentile(medians, (1 - level) / 2);
  out.high = sorted_percentile(medians, (1 + level) / 2);
  return out;
}

}  // namespace grokscope
