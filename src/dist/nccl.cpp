// The NCCL Communicator (compiled when CMake finds CUDA and NCCL).
#include "grokscope/dist/nccl.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include "grokscope/core/error.hpp"
#include "grokscope/dist/mpi.hpp"

namespace grokscope {
namespace {

void check_cuda(cudaError_t code, const char* what) {
  if (code != cudaSuccess) throw Error(std::string(what) + " failed: " + cudaGetErrorString(code));
}
void check_nccl(ncclResult_t code, const char* what) {
  if (code != ncclSuccess) throw Error(std::string(what) + " failed: " + ncclGetErrorString(code));
}

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(MpiCommunicator& group, int device) : rank_(group.rank()), size_(group.size()) {
    check_cuda(cudaSetDevice(device), "cudaSetDevice");
    ncclUniqueId id;
    if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    group.broadcast(&id, sizeof id, 0);
    check_nccl(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
    check_cuda(cudaStreamCreate(&stream_), "cudaStreamCreate");
    check_cuda(cudaMalloc(&scratch_, sizeof(float)), "cudaMalloc");
  }
  ~NcclCommunicator() override {
    cudaFree(scratch_);
    cudaStreamDestroy(stream_);
    ncclCommDestroy(comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }
  void allreduce_sum(double* data, std::size_t count) override {
    check_nccl(ncclAllReduce(data, data, count, ncclFloat64, ncclSum, comm_, stream_), "ncclAllReduce");
    sync();
  }
  void allreduce_sum(float* data, std::size_t count) override {
    check_nccl(ncclAllReduce(data, data, count, ncclFloat32, ncclSum, comm_, stream_), "ncclAllReduce");
    sync();
  }
  void broadcast(void* data, std::size_t bytes, int root) override {
    check_nccl(ncclBroadcast(data, data, bytes, ncclChar, root, comm_, stream_), "ncclBroadcast");
    sync();
  }
  void barrier() override { allreduce_sum(static_cast<float*>(scratch_), 1); }

 private:
  void sync() { check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }
  ncclComm_t comm_{};
  cudaStream_t stream_{};
  void* scratch_ = nullptr;
  int rank_, size_;
};

}  // namespace

bool nccl_compiled() { return true; }

int cuda_device_count() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}

std::unique_ptr<Communicator> make_nccl_communicator(MpiCommunicator& group, int device) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess || count == 0)
    throw UnsupportedError(std::string("the NCCL backend needs a CUDA device, and none is visible (") +
                           (status != cudaSuccess ? cudaGetErrorString(status) : "0 devices") + ")");
  if (device < 0 || device >= count)
    throw UnsupportedError("CUDA device " + std::to_string(device) + " does not exist (" +
                           std::to_string(count) + " visible)");
  return std::make_unique<NcclCommunicator>(group, device);
}

}  // namespace grokscope
