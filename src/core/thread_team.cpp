#include "grokscope/core/thread_team.hpp"

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GROKSCOPE_PAUSE() _mm_pause()
#else
#define GROKSCOPE_PAUSE() std::this_thread::yield()
#endif

namespace grokscope {
namespace {

// How long an idle helper spins before it sleeps: far longer than the gap between two training
// steps (microseconds), far shorter than a checkpoint (seconds).
constexpr auto kSpin = std::chrono::microseconds(200);

// Waiting inside a job (barrier, the caller waiting for the helpers): pause-spin, then yield, so
// an oversubscribed machine (more busy threads than cores) lets the awaited thread run.
class Waiter {
 public:
  void operator()() {
    if (++spins_ < 512) GROKSCOPE_PAUSE();  // ~25 us of pauses
    else std::this_thread::yield();
  }

 private:
  int spins_ = 0;
};

}  // namespace

Range share_of(int n, int parts, int member) {
  const int base = n / parts, extra = n % parts;
  const int begin = member * base + (member < extra ? member : extra);
  return {begin, begin + base + (member < extra ? 1 : 0)};
}

ThreadTeam::ThreadTeam(int size) : size_(size < 1 ? 1 : size) {
  for (int m = 1; m < size_; ++m) helpers_.emplace_back([this, m] { helper(m); });
}

ThreadTeam::~ThreadTeam() {
  quit_.store(true);
  generation_.fetch_add(1);
  {
    std::lock_guard<std::mutex> lock(mutex_);
  }
  wake_.notify_all();
  for (auto& t : helpers_) t.join();
}

void ThreadTeam::run(const std::function<void(int)>& job) {
  if (size_ == 1) {
    job(0);
    return;
  }
  job_ = &job;
  error_ = nullptr;
  finished_.store(0, std::memory_order_relaxed);
  // seq_cst on both sides (here and in helper()): either the helper sees the new generation
  // before it sleeps, or we see it asleep and wake it. No wake-up is lost.
  generation_.fetch_add(1);
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> lock(mutex_); }
    wake_.notify_all();
  }
  try {
    job(0);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = std::current_exception();
  }
  Waiter wait;
  while (finished_.load(std::memory_order_acquire) < size_ - 1) wait();
  job_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void ThreadTeam::barrier() {
  if (size_ == 1) return;
  const unsigned phase = barrier_phase_.load(std::memory_order_acquire);
  if (barrier_count_.fetch_add(1, std::memory_order_acq_rel) == size_ - 1) {
    barrier_count_.store(0, std::memory_order_relaxed);
    barrier_phase_.store(phase + 1, std::memory_order_release);
  } else {
    Waiter wait;
    while (barrier_phase_.load(std::memory_order_acquire) == phase) wait();
  }
}

void ThreadTeam::helper(int member) {
  unsigned seen = 0;
  while (true) {
    const auto spin_until = std::chrono::steady_clock::now() + kSpin;
    int checks = 0;
    while (generation_.load() == seen) {
      if (checks < 512) GROKSCOPE_PAUSE();
      else std::this_thread::yield();
      if (++checks % 256 == 0 && std::chrono::steady_clock::now() > spin_until) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        sleepers_.fetch_sub(1);
      }
    }
    seen = generation_.load();
    if (quit_.load()) return;
    try {
      (*job_)(member);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    finished_.fetch_add(1, std::memory_order_release);
  }
}

}  // namespace grokscope
