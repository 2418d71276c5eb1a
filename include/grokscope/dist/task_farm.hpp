#pragma once
// Dynamic scheduling of runs over rank groups: a shared counter in an MPI window on world rank 0,
// advanced with MPI_Fetch_and_op by each group's leader, the answer broadcast inside the group.
// Which group trains which run varies from job to job; the numbers do not, because a run's results
// depend only on its config and seed. No rank is sacrificed as a master.
//
// Progress note: on one node OpenMPI's shared-memory one-sided component does the atomic directly;
// across nodes it relies on hardware atomics (UCX/verbs) or on rank 0 entering MPI now and then,
// which it does at every checkpoint.
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace grokscope {

class TaskFarm {
 public:
  // Collective over `world`. `group`: this rank's group (its rank 0 is the leader).
  TaskFarm(MPI_Comm world, MPI_Comm group, std::size_t tasks);
  ~TaskFarm();  // collective over `world`
  TaskFarm(const TaskFarm&) = delete;
  TaskFarm& operator=(const TaskFarm&) = delete;

  // Collective over the group: the next task index for this group, or nothing when all are taken.
  std::optional<std::size_t> next();

 private:
  MPI_Comm group_;
  MPI_Win window_ = MPI_WIN_NULL;
  std::int64_t* counter_ = nullptr;
  std::size_t tasks_;
};

}  // namespace grokscope
