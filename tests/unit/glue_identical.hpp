#pragma once
// Bit-for-bit comparison of two GLUE results, shared by the unit and MPI tests (header-only).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "grokscope/geometry/glue.hpp"

namespace grokscope::test_data {

// Every reported number equal in the last bit; `context` names the comparison in a failure.
inline void expect_identical(const GlueResult& a, const GlueResult& b, const std::string& context = "") {
  EXPECT_EQ(a.capacity, b.capacity) << context;
  EXPECT_EQ(a.radius, b.radius) << context;
  EXPECT_EQ(a.dimension, b.dimension) << context;
  EXPECT_EQ(a.utility, b.utility) << context;
  EXPECT_EQ(a.center_alignment, b.center_alignment) << context;
  EXPECT_EQ(a.axis_alignment, b.axis_alignment) << context;
  EXPECT_EQ(a.center_axis_alignment, b.center_axis_alignment) << context;
  // NaN where the identity is undefined: equal when both are NaN.
  if (!(std::isnan(a.identity_error) && std::isnan(b.identity_error))) {
    EXPECT_EQ(a.identity_error, b.identity_error) << context;
  }
}

}  // namespace grokscope::test_data
