//===- IsolatedTest.cpp - sattn-tune's child processes, without a GPU -----===//
//
// The part of sattn-tune that keeps a sweep alive: a child that crashes,
// fails, hangs or leaves a background process holding its output is
// reported as such, within the deadline, with what it printed.
//
//===----------------------------------------------------------------------===//

#include "tools/sattn-tune/Isolated.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using namespace sattn;

namespace {

IsolatedResult shell(const std::string &script, double seconds = 20) {
  IsolatedResult result;
  std::string error;
  EXPECT_TRUE(runIsolated({"/bin/sh", "-c", script}, seconds, result, &error))
      << error;
  return result;
}

TEST(Isolated, ReturnsWhatTheChildPrinted) {
  IsolatedResult r = shell("echo '{\"ok\": true}'; echo to-stderr >&2");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, "{\"ok\": true}\n");
  EXPECT_EQ(r.describe(), "exit code 0");
}

TEST(Isolated, ReportsExitCodesAndSignals) {
  IsolatedResult failed = shell("echo partial; exit 3");
  EXPECT_FALSE(failed.ok());
  EXPECT_TRUE(failed.exited);
  EXPECT_EQ(failed.exitCode, 3);
  EXPECT_EQ(failed.out, "partial\n");

  IsolatedResult crashed = shell("kill -SEGV $$");
  EXPECT_FALSE(crashed.ok());
  EXPECT_FALSE(crashed.exited);
  EXPECT_EQ(crashed.signal, SIGSEGV);
  EXPECT_NE(crashed.describe().find("killed by signal 11"), std::string::npos)
      << crashed.describe();
}

TEST(Isolated, KillsAChildThatHangs) {
  IsolatedResult r = shell("echo started; sleep 30", 0.5);
  EXPECT_TRUE(r.timedOut);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_EQ(r.out, "started\n");
  EXPECT_EQ(r.describe().rfind("timed out after", 0), 0u) << r.describe();
}

TEST(Isolated, CancellingKillsTheChildAtOnce) {
  volatile int cancel = 0;
  std::thread interrupter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = 1;
  });
  IsolatedResult r;
  std::string error;
  ASSERT_TRUE(runIsolated({"/bin/sh", "-c", "sleep 30"}, 20, r, &error,
                          &cancel));
  interrupter.join();
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.timedOut);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_EQ(r.describe(), "interrupted");
}

TEST(Isolated, ABackgroundProcessDoesNotHoldTheSweep) {
  // The child exits at once, but leaves a process that keeps its stdout.
  IsolatedResult r = shell("sleep 30 & echo done", 10);
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_EQ(r.out, "done\n");
}

TEST(Isolated, AProgramThatCannotStartIsAFailureNotACrash) {
  IsolatedResult r;
  std::string error;
  ASSERT_TRUE(runIsolated({"/nonexistent/sattn-tune"}, 5, r, &error));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exitCode, 127);
}

} // namespace
