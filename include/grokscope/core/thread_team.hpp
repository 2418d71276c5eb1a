#pragma once
// A fixed team of threads that run one job together, for work that is split by hand into a few
// equal parts and repeated back to back (the fused MLP training step: one job of ~1 ms per step),
// or into independent pieces taken from a shared counter (GLUE's blocks of samples).
//
// Why not LibTorch's OpenMP pool or OpenBLAS's own threads: the step's GEMMs are small (64-200
// rows), and a BLAS that splits each GEMM over its threads pays a fork/join per call; measured
// here, two threads that each run their half of every GEMM single-threaded reach 270-300 GFLOP/s
// on the recipes' shapes against OpenBLAS's 210-240 with 2 threads per call (bench/README.md).
//
// The caller is member 0; members 1..size-1 are helper threads. Between jobs a helper spins for a
// short while (consecutive steps follow within microseconds), then sleeps on a condition variable,
// so a team never holds a core while its rank does something else for long (a checkpoint's NTK
// and geometry, which use the BLAS's own threads).
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace grokscope {

class ThreadTeam {
 public:
  explicit ThreadTeam(int size);
  ~ThreadTeam();
  ThreadTeam(const ThreadTeam&) = delete;
  ThreadTeam& operator=(const ThreadTeam&) = delete;

  int size() const { return size_; }
  // Runs job(member) on every member (0 on the calling thread) and returns when all are done. The
  // first exception thrown by a member is rethrown here; a job that throws must not do so between
  // barriers, or the other members wait for it forever.
  void run(const std::function<void(int member)>& job);
  // Inside a job: returns once every member has reached it.
  void barrier();

 private:
  void helper(int member);

  int size_;
  std::vector<std::thread> helpers_;
  const std::function<void(int)>* job_ = nullptr;
  std::atomic<unsigned> generation_{0};  // bumped once per job; helpers wait for it to change
  std::atomic<int> finished_{0};         // helpers done with the current job
  std::atomic<int> sleepers_{0};
  std::atomic<bool> quit_{false};
  std::atomic<int> barrier_count_{0};
  std::atomic<unsigned> barrier_phase_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::exception_ptr error_;
};

// Member `member` of `parts`'s share of [0, n): contiguous, sizes differing by at most one.
struct Range {
  int begin, end;
};
Range share_of(int n, int parts, int member);

}  // namespace grokscope
