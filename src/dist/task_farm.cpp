#include "grokscope/dist/task_farm.hpp"

#include "grokscope/dist/mpi.hpp"

namespace grokscope {

TaskFarm::TaskFarm(MPI_Comm world, MPI_Comm group, std::size_t tasks) : group_(group), tasks_(tasks) {
  int rank = 0;
  MPI_Comm_rank(world, &rank);
  const MPI_Aint bytes = rank == 0 ? sizeof(std::int64_t) : 0;
  check_mpi(MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, world, &counter_, &window_),
            "MPI_Win_allocate (task counter)");
  if (rank == 0) {
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, window_);
    *counter_ = 0;
    MPI_Win_unlock(0, window_);
  }
  MPI_Barrier(world);
}

TaskFarm::~TaskFarm() {
  if (window_ != MPI_WIN_NULL) MPI_Win_free(&window_);
}

std::optional<std::size_t> TaskFarm::next() {
  int group_rank = 0;
  MPI_Comm_rank(group_, &group_rank);
  std::int64_t taken = 0;
  if (group_rank == 0) {
    const std::int64_t one = 1;
    check_mpi(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, window_), "MPI_Win_lock (task counter)");
    check_mpi(MPI_Fetch_and_op(&one, &taken, MPI_INT64_T, 0, 0, MPI_SUM, window_), "MPI_Fetch_and_op");
    check_mpi(MPI_Win_unlock(0, window_), "MPI_Win_unlock (task counter)");
  }
  MPI_Bcast(&taken, 1, MPI_INT64_T, 0, group_);
  if (taken < 0 || static_cast<std::size_t>(taken) >= tasks_) return std::nullopt;
  return static_cast<std::size_t>(taken);
}

}  // namespace grokscope
