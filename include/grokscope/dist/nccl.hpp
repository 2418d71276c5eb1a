#pragma once
// The NCCL implementation of Communicator, for reductions on GPU buffers. It is compiled when CMake
// finds the CUDA toolkit and NCCL (GROKSCOPE_NCCL=AUTO|ON); otherwise the same functions exist and
// report clearly that the build has no NCCL, so callers need no #ifdefs.
#include <memory>
#include <string>

#include "grokscope/dist/communicator.hpp"

namespace grokscope {

class MpiCommunicator;

// True when this build carries the NCCL backend.
bool nccl_compiled();
// CUDA devices visible to this process (0 when none, when the driver is missing, or without CUDA).
int cuda_device_count();
// One NCCL communicator over the ranks of `group`: rank 0 creates the unique id, MPI broadcasts it,
// every rank binds `device`. Pointers given to the result's operations are DEVICE pointers.
// Throws UnsupportedError when NCCL is not compiled in or no CUDA device is visible.
std::unique_ptr<Communicator> make_nccl_communicator(MpiCommunicator& group, int device);

}  // namespace grokscope
