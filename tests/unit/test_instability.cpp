#include <gtest/gtest.h>

#include <vector>

#include "grokscope/train/instability.hpp"

namespace grokscope {
namespace {

std::vector<int> spikes_in(const std::vector<double>& losses) {
  SpikeDetector d;
  std::vector<int> at;
  for (std::size_t i = 0; i < losses.size(); ++i)
    if (d.observe(losses[i])) at.push_back(static_cast<int>(i));
  return at;
}

TEST(Instability, ASpikeBackTowardsTheInitialLossIsReportedOnce) {
  // Converges from 1 to 1e-4, jumps to 0.5 for three batches, recovers, spikes again.
  EXPECT_EQ(spikes_in({1, 0.1, 0.01, 1e-3, 1e-4, 0.5, 0.4, 0.3, 1e-4, 1e-4, 0.2}), (std::vector<int>{5, 10}));
}

TEST(Instability, JitterOfAConvergedRunIsNotASpike) {
  // ×100 over the running minimum, but far below 1% of the first loss.
  EXPECT_TRUE(spikes_in({1, 1e-3, 1e-7, 1e-5, 1e-7, 5e-5, 1e-6}).empty());
}

TEST(Instability, AMonotoneRunHasNone) {
  std::vector<double> losses;
  for (double l = 2; l > 1e-8; l *= 0.9) losses.push_back(l);
  EXPECT_TRUE(spikes_in(losses).empty());
}

}  // namespace
}  // namespace grokscope
