#pragma once
// Facts about the process we run in: which BLAS got loaded, and the thread policy.
//
// Thread policy (one pool per rank): a rank owns `threads` cores (by default the node's cores
// divided by the ranks on that node, but no more than the launcher bound it to). The BLAS gets
// those cores and LibTorch's own OpenMP pool gets ONE thread, so the two pools never spin against
// each other (the fused MLP step and GLUE split their work over a team of `threads` of their own). For the MLPs studied here the step is
// dominated by GEMMs, which the BLAS parallelizes; element-wise kernels are cheap. Measured with
// Debian's PyTorch 1.13 on 2 cores (Omnigrok MLP, batch 200, AdamW): torch 1 + BLAS 2 threads
// 8.0 ms/step, 1 + 1: 12.3, 2 + 1: 12.8, 2 + 2: 25.2 (the trap). See bench/README.md.
#include <string>

namespace grokscope {

struct BlasInfo {
  std::string name;     // "OpenBLAS", "reference BLAS", "MKL", "unknown"
  std::string library;  // resolved path of the loaded library, when found
  bool slow = false;    // true for the netlib reference implementation
};

BlasInfo loaded_blas();
// Warns once (on rank 0) when the BLAS that got loaded is the slow reference one.
void warn_if_slow_blas();
// Sets OpenBLAS's own thread count when OpenBLAS is loaded; no-op otherwise.
void set_blas_threads(int threads);
// Whether set_blas_threads takes effect (the loaded BLAS is OpenBLAS).
bool blas_threads_settable();
// The cores the calling thread may run on (its CPU affinity: an MPI launcher's or srun's binding),
// or the hardware's cores where that cannot be read.
int cores_of_this_thread();
// Cores for one rank: `requested` if > 0, else hardware cores / ranks on this node, but no more
// than the rank is bound to (at least 1).
int threads_per_rank(int requested, int ranks_on_node);
// Empty, or a warning naming `setting` (the thread count's key or option) and the fix, when
// `threads` exceeds the cores this rank is bound to: OpenMPI binds each rank of a 1- or 2-rank job
// to ONE core by default, and threads that share a core only slow each other down.
std::string binding_warning(int threads, const std::string& setting);

}  // namespace grokscope
