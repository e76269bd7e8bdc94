//===- Isolated.cpp - Run a command in a child process, with a deadline ---===//

#include "tools/sattn-tune/Isolated.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sattn {

std::string IsolatedResult::describe() const {
  if (cancelled)
    return "interrupted";
  if (timedOut)
    return "timed out after " + std::to_string(int(seconds + 0.5)) + " s";
  if (signal)
    return "killed by signal " + std::to_string(signal) + " (" +
           strsignal(signal) + ")";
  return "exit code " + std::to_string(exitCode);
}

bool runIsolated(const std::vector<std::string> &argv, double seconds,
                 IsolatedResult &result, std::string *error,
                 const volatile int *cancel) {
  result = IsolatedResult();
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<char *> args;
  for (const std::string &a : argv)
    args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);

  auto start = std::chrono::steady_clock::now();
  pid_t child = ::fork();
  if (child < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    ::close(pipeFds[0]);
    ::close(pipeFds[1]);
    return false;
  }
  if (child == 0) {
    ::setpgid(0, 0); // its own group: Ctrl-C reaches the parent only
    ::dup2(pipeFds[1], STDOUT_FILENO);
    ::execv(args[0], args.data());
    const char message[] = "sattn-tune: cannot start the measuring process\n";
    (void)!::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(127);
  }
  ::setpgid(child, child); // also here, so the kill below cannot miss
  ::close(pipeFds[1]);

  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  // Read what it prints until it exits or the deadline passes. The child's
  // exit, not the end of the pipe, ends the wait: something it started in
  // the background may hold the pipe open.
  ::fcntl(pipeFds[0], F_SETFL, O_NONBLOCK);
  char buffer[4096];
  bool endOfPipe = false;
  auto drain = [&] {
    ssize_t n;
    while ((n = ::read(pipeFds[0], buffer, sizeof buffer)) > 0)
      result.out.append(buffer, size_t(n));
    endOfPipe |= n == 0;
  };
  int status = 0;
  bool reaped = false;
  while (!reaped) {
    double left = seconds - elapsed();
    bool cancelled = cancel && *cancel;
    if (left <= 0 || cancelled) {
      result.timedOut = !cancelled;
      result.cancelled = cancelled;
      ::kill(-child, SIGKILL);
      reaped = ::waitpid(child, &status, 0) == child;
      break;
    }
    int waitMs = std::min(50, int(left * 1000) + 1);
    if (endOfPipe) {
      ::usleep(useconds_t(waitMs) * 1000);
    } else {
      pollfd p = {pipeFds[0], POLLIN, 0};
      ::poll(&p, 1, waitMs);
      drain();
    }
    pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child)
      reaped = true;
    else if (done < 0 && errno != EINTR)
      break;
  }
  drain();
  ::close(pipeFds[0]);
  ::kill(-child, SIGKILL); // whatever it started is gone too
  result.seconds = elapsed();
  bool killed = result.timedOut || result.cancelled;
  if (WIFEXITED(status)) {
    result.exited = !killed;
    result.exitCode = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = killed ? 0 : WTERMSIG(status);
  }
  return true;
}

} // namespace sattn
