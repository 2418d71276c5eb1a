#include "grokscope/dist/mpi.hpp"

#include <climits>
#include <string>

#include "grokscope/core/error.hpp"
#include "grokscope/core/log.hpp"

namespace grokscope {

void check_mpi(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string(what) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

MpiEnvironment::MpiEnvironment(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    // FUNNELED: only the main thread calls MPI (LibTorch/BLAS threads never do).
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    finalize_ = true;
  }
  // Errors come back as codes (turned into exceptions) instead of aborting the job.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size_);
  MPI_Comm node;
  check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  MPI_Comm_rank(node, &node_rank_);
  MPI_Comm_size(node, &node_size_);
  MPI_Comm_free(&node);
  logging::set_rank(world_rank_);
}

MpiEnvironment::~MpiEnvironment() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalize_ && !finalized) MPI_Finalize();
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owned_ && !finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

std::unique_ptr<MpiCommunicator> MpiCommunicator::split_groups(MPI_Comm parent, int group_size) {
  if (group_size < 1) throw ConfigError("parallel.group_size", "must be >= 1");
  int rank = 0, size = 1;
  MPI_Comm_rank(parent, &rank);
  MPI_Comm_size(parent, &size);
  if (size % group_size != 0)
    throw ConfigError("parallel.group_size", "is " + std::to_string(group_size) +
                                                 " but the job has " + std::to_string(size) +
                                                 " ranks (must divide it)");
  MPI_Comm group;
  check_mpi(MPI_Comm_split(parent, rank / group_size, rank, &group), "MPI_Comm_split");
  return std::make_unique<MpiCommunicator>(group, /*owned=*/true);
}

namespace {
// MPI counts are int: reduce in slices for very large buffers (e.g. stored kernels).
template <typename T>
void allreduce_chunked(MPI_Comm comm, T* data, std::size_t count, MPI_Datatype type) {
  constexpr std::size_t kSlice = INT_MAX / 2;
  for (std::size_t offset = 0; offset < count; offset += kSlice) {
    const int n = static_cast<int>(std::min(kSlice, count - offset));
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, data + offset, n, type, MPI_SUM, comm), "MPI_Allreduce");
  }
}
}  // namespace

void MpiCommunicator::allreduce_sum(double* data, std::size_t count) {
  allreduce_chunked(comm_, data, count, MPI_DOUBLE);
}
void MpiCommunicator::allreduce_sum(float* data, std::size_t count) {
  allreduce_chunked(comm_, data, count, MPI_FLOAT);
}
void MpiCommunicator::broadcast(void* data, std::size_t bytes, int root) {
  auto* p = static_cast<char*>(data);
  constexpr std::size_t kSlice = INT_MAX / 2;
  for (std::size_t offset = 0; offset < bytes; offset += kSlice)
    check_mpi(MPI_Bcast(p + offset, static_cast<int>(std::min(kSlice, bytes - offset)), MPI_BYTE, root, comm_),
              "MPI_Bcast");
}
void MpiCommunicator::barrier() { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

}  // namespace grokscope
