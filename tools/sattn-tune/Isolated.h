//===- Isolated.h - A child process with a deadline ------------*- C++ -*-===//
//
// How sattn-tune survives its candidates: each one is measured by a child
// process (a fresh CUDA context), so that a kernel that faults (illegal
// address, launch failure: the context is lost) or hangs costs that child,
// not the sweep. The child runs in its own process group, is killed (the
// whole group, SIGKILL) at the deadline, and what it printed on stdout is
// returned; stderr passes through.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_TOOLS_SATTNTUNE_ISOLATED_H
#define SATTN_TOOLS_SATTNTUNE_ISOLATED_H

#include <string>
#include <vector>

namespace sattn {

struct IsolatedResult {
  bool exited = false; // exited normally (see exitCode)
  int exitCode = -1;
  int signal = 0; // the signal that ended it, if any
  bool timedOut = false;
  bool cancelled = false; // *cancel became non-zero: the child was killed
  std::string out;        // its stdout
  double seconds = 0;

  bool ok() const { return exited && exitCode == 0; }
  /// "exit code 3", "killed by signal 11 (Segmentation fault)", "timed out
  /// after 60 s".
  std::string describe() const;
};

/// Runs `argv` (argv[0] a path) with `seconds` to finish; when `cancel`
/// is given and becomes non-zero (a SIGINT handler), the child is killed at
/// once. False, with `error` set, only when it cannot be started.
bool runIsolated(const std::vector<std::string> &argv, double seconds,
                 IsolatedResult &result, std::string *error,
                 const volatile int *cancel = nullptr);

} // namespace sattn

#endif // SATTN_TOOLS_SATTNTUNE_ISOLATED_H
