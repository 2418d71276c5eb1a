#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "grokscope/core/random.hpp"

using grokscope::RandomStream;

TEST(Random, SameKeySameNumbersOtherKeyOtherNumbers) {
  RandomStream a(7, {1, 2}), b(7, {1, 2}), c(7, {2, 1}), d(8, {1, 2});
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
    EXPECT_NE(x, d.next());
  }
}

TEST(Random, NormalMomentsAndUniformRange) {
  RandomStream s(123);
  const int n = 200000;
  double sum = 0, sq = 0;
  for (int i = 0; i < n; ++i) {
    const double z = s.normal();
    sum += z;
    sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, 1.0, 0.01);
  for (int i = 0; i < 1000; ++i) {
    const double u = s.uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

TEST(Random, ShuffleIsAPermutation) {
  std::vector<int> v(1000);
  std::iota(v.begin(), v.end(), 0);
  RandomStream(5).shuffle(v);
  std::vector<int> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(sorted[i], i);
  int fixed = 0;
  for (int i = 0; i < 1000; ++i) fixed += v[i] == i;
  EXPECT_LT(fixed, 10);  // a real shuffle leaves ~1 element in place
}
