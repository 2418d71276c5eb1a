#pragma once
// The Communicator interface: the few collective operations the metric engines need, over a group
// of ranks. The MPI implementation is always built; an NCCL implementation (device buffers) is
// built when CMake finds CUDA and NCCL (GROKSCOPE_NCCL=AUTO|ON|OFF) and otherwise reports clearly.
#include <cstddef>
#include <memory>
#include <string>

namespace grokscope {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;
  // In-place sum over the group; every rank ends with the same values.
  virtual void allreduce_sum(double* data, std::size_t count) = 0;
  virtual void allreduce_sum(float* data, std::size_t count) = 0;
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  virtual void barrier() = 0;
};

}  // namespace grokscope
