#include <gtest/gtest.h>

#include <sched.h>

#include <thread>

#include "grokscope/core/runtime.hpp"

using namespace grokscope;

namespace {

// Restricts the calling thread to its first allowed CPU for the scope (what `mpiexec --bind-to
// core` or `taskset -c` does to a rank), then restores its mask.
class BoundToOneCore {
 public:
  BoundToOneCore() {
    CPU_ZERO(&saved_);
    ok_ = sched_getaffinity(0, sizeof saved_, &saved_) == 0;
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &saved_)) {
        CPU_SET(c, &one);
        break;
      }
    ok_ = ok_ && sched_setaffinity(0, sizeof one, &one) == 0;
  }
  ~BoundToOneCore() { sched_setaffinity(0, sizeof saved_, &saved_); }
  bool ok() const { return ok_; }

 private:
  cpu_set_t saved_;
  bool ok_ = false;
};

}  // namespace

TEST(Runtime, DefaultThreadsAreTheNodeShareCappedByTheBinding) {
  const int hardware = static_cast<int>(std::thread::hardware_concurrency());
  const int free_cores = cores_of_this_thread();
  ASSERT_GE(free_cores, 1);
  EXPECT_EQ(threads_per_rank(3, 1), 3);  // an explicit count is taken as given
  EXPECT_EQ(threads_per_rank(0, 1), std::max(1, std::min(hardware, free_cores)));
  EXPECT_EQ(threads_per_rank(0, hardware + 1), 1);  // more ranks than cores: still one thread
  {
    BoundToOneCore bound;
    ASSERT_TRUE(bound.ok());
    EXPECT_EQ(cores_of_this_thread(), 1);
    EXPECT_EQ(threads_per_rank(0, 1), 1);  // not the node's cores: they would share one
    EXPECT_EQ(binding_warning(1, "parallel.threads"), "");
    const std::string w = binding_warning(2, "parallel.threads");
    EXPECT_NE(w.find("parallel.threads is 2 but this rank may run on only 1 core(s)"), std::string::npos) << w;
    EXPECT_NE(w.find("--bind-to none"), std::string::npos) << w;
  }
  EXPECT_EQ(cores_of_this_thread(), free_cores);
  EXPECT_EQ(binding_warning(free_cores, "--threads"), "");
}
