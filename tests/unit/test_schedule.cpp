#include <gtest/gtest.h>

#include "grokscope/core/error.hpp"
#include "grokscope/core/schedule.hpp"

using grokscope::checkpoint_steps;

TEST(Schedule, LogSpacedMergedWithExtraAndEnds) {
  const auto steps = checkpoint_steps(1000, 2, {7, 500}, true);
  // 10^(k/2): 1, 3, 10, 32, 100, 316, 1000
  const std::vector<std::int64_t> expected = {0, 1, 3, 7, 10, 32, 100, 316, 500, 1000};
  EXPECT_EQ(steps, expected);
}

TEST(Schedule, DensityPerDecade) {
  const auto steps = checkpoint_steps(100000, 10, {}, false);
  EXPECT_EQ(steps.front(), 1);
  EXPECT_EQ(steps.back(), 100000);
  // Consecutive log-spaced checkpoints beyond the first decade are about 10^(1/10) = 1.26x apart,
  // so an onset is timed to within 26% of its step at 10 per decade.
  for (std::size_t i = 1; i < steps.size(); ++i) {
    ASSERT_GT(steps[i], steps[i - 1]);
    if (steps[i - 1] >= 100) {
      EXPECT_LT(double(steps[i]) / double(steps[i - 1]), 1.27);
    }
  }
}

TEST(Schedule, AlwaysEndsAtTheLastStepAndIsUnique) {
  const auto steps = checkpoint_steps(7, 1, {7, 7, 0}, true);
  EXPECT_EQ(steps, (std::vector<std::int64_t>{0, 1, 7}));
}

TEST(Schedule, ExtraOutsideRangeIsAConfigError) {
  EXPECT_THROW(checkpoint_steps(100, 5, {101}, true), grokscope::ConfigError);
  EXPECT_THROW(checkpoint_steps(100, 5, {-1}, true), grokscope::ConfigError);
}
