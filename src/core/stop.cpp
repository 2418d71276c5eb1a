#include "grokscope/core/stop.hpp"

#include <csignal>
#include <initializer_list>

namespace grokscope {
namespace {

// Written by the handler, read by the loop: sig_atomic_t is what a handler may touch.
volatile std::sig_atomic_t requested = 0;

extern "C" void on_stop_signal(int signal) { requested = signal; }

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking I/O in progress continues; the loop checks between steps
  for (int signal : {SIGUSR2, SIGTERM, SIGINT}) sigaction(signal, &action, nullptr);
}

int stop_requested() { return requested; }

void request_stop(int signal) { requested = signal; }

}  // namespace grokscope
