#pragma once
// MPI: the process-wide environment (init/finalize, world, node-local ranks) and the MPI
// Communicator. Only this header and src/dist include <mpi.h>.
#include <mpi.h>

#include <memory>

#include "grokscope/dist/communicator.hpp"

namespace grokscope {

// RAII over MPI_Init_thread / MPI_Finalize. One per process, created first thing in main().
class MpiEnvironment {
 public:
  MpiEnvironment(int* argc, char*** argv);
  ~MpiEnvironment();
  MpiEnvironment(const MpiEnvironment&) = delete;
  MpiEnvironment& operator=(const MpiEnvironment&) = delete;

  int world_rank() const { return world_rank_; }
  int world_size() const { return world_size_; }
  int node_rank() const { return node_rank_; }    // rank among the ranks on this node
  int node_size() const { return node_size_; }

 private:
  int world_rank_ = 0, world_size_ = 1, node_rank_ = 0, node_size_ = 1;
  bool finalize_ = false;
};

class MpiCommunicator : public Communicator {
 public:
  // Wraps `comm`; takes ownership (frees it) when `owned`.
  explicit MpiCommunicator(MPI_Comm comm, bool owned = false);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  // Splits `parent` into groups of `group_size` consecutive ranks.
  static std::unique_ptr<MpiCommunicator> split_groups(MPI_Comm parent, int group_size);

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }
  void allreduce_sum(double* data, std::size_t count) override;
  void allreduce_sum(float* data, std::size_t count) override;
  void broadcast(void* data, std::size_t bytes, int root) override;
  void barrier() override;
  MPI_Comm handle() const { return comm_; }

 private:
  MPI_Comm comm_;
  bool owned_;
  int rank_ = 0, size_ = 1;
};

// Throws grokscope::Error with the MPI error string when `code` is not MPI_SUCCESS.
void check_mpi(int code, const char* what);

}  // namespace grokscope
