#pragma once
// Graceful stop on a signal (preemption, time limit, Ctrl-C): the handler only records the signal;
// the training loop polls `stop_requested()` between optimizer steps, saves the run state at the
// step it reached and returns, so a requeued job loses no work at all (a SIGKILL still loses at
// most the work since the last checkpoint). Slurm sends SIGUSR2 (--signal=B:USR2@s, forwarded by
// the batch script) or SIGTERM (scancel, the end of a time limit).
namespace grokscope {

// Installs the handler for SIGUSR2, SIGTERM and SIGINT. Idempotent.
void install_stop_handlers();
// The signal that asked for a stop, or 0 when none did.
int stop_requested();
// For tests: ask for a stop as if `signal` had arrived (0 clears the request).
void request_stop(int signal);

// The exit code of a process that stopped on request with its state saved (EX_TEMPFAIL: "try
// again"; the batch script requeues it).
inline constexpr int kExitStopped = 75;

}  // namespace grokscope
