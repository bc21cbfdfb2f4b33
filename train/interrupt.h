#pragma once
// SIGINT and SIGTERM as requests to stop training cleanly: while an
// InterruptHandler lives, the first such signal is only recorded, so the
// training loop can finish its step, write a checkpoint and exit with
// 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), as shells
// expect. A second signal ends the process at once with that code: a user who
// presses Ctrl-C twice means it. Only the record is made in the handler
// (async-signal-safe); the loop polls interrupt_signal().
namespace torchzoo::train {

/// Installs the handlers for SIGINT and SIGTERM; the destructor restores the previous ones.
/// One at a time per process.
class InterruptHandler {
 public:
  InterruptHandler();
  ~InterruptHandler();
  InterruptHandler(const InterruptHandler&) = delete;
  InterruptHandler& operator=(const InterruptHandler&) = delete;
};

/// The first SIGINT or SIGTERM received while an InterruptHandler was installed, else 0.
int interrupt_signal();

/// "SIGINT", "SIGTERM", or "a signal".
const char* signal_name(int signal);

}  // namespace torchzoo::train
