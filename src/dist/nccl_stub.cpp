// Built when grokscope has no NCCL backend: the same API, with a clear error.
#include "grokscope/core/error.hpp"
#include "grokscope/dist/nccl.hpp"

namespace grokscope {

bool nccl_compiled() { return false; }
int cuda_device_count() { return 0; }
std::unique_ptr<Communicator> make_nccl_communicator(MpiCommunicator&, int) {
  throw UnsupportedError(
      "this grokscope was built without the NCCL backend (GROKSCOPE_NCCL=OFF, or CUDA/NCCL not found "
      "at configure time); rebuild with a CUDA toolkit and NCCL, e.g. the 'cluster' preset");
}

}  // namespace grokscope
