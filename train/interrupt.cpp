#include "torchzoo/train/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "torchzoo/common/check.h"

namespace torchzoo::train {
namespace {

std::atomic<int> received{0};
std::atomic<bool> installed{false};
struct sigaction previous_int {};
struct sigaction previous_term {};

void on_signal(int signal) {
  int expected = 0;
  if (received.compare_exchange_strong(expected, signal)) {
    constexpr char kMessage[] =
        "\ninterrupted: finishing this step and writing a checkpoint (interrupt again to stop at once)\n";
    [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    return;
  }
  constexpr char kMessage[] = "\ninterrupted again: stopping now, without a checkpoint\n";
  [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  ::_exit(128 + signal);
}

}  // namespace

InterruptHandler::InterruptHandler() {
  TORCHZOO_CHECK(!installed.exchange(true), "InterruptHandler: one is installed already");
  received = 0;
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &previous_int);
  ::sigaction(SIGTERM, &action, &previous_term);
}

InterruptHandler::~InterruptHandler() {
  ::sigaction(SIGINT, &previous_int, nullptr);
  ::sigaction(SIGTERM, &previous_term, nullptr);
  installed = false;
}

int interrupt_signal() { return received.load(); }

const char* signal_name(int signal) {
  switch (signal) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "a signal";
  }
}

}  // namespace torchzoo::train
