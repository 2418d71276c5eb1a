// PLACEHOLDER (being written)
#include <gtest/gtest.h>
TEST(Onset, Placeholder) { FAIL(); }
