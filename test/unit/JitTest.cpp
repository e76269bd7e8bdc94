//===- JitTest.cpp - The kernel cache and the JIT, without a GPU ----------===//
//
// What the runtime does when it asks for a variant's kernels: compile once,
// load from the cache after; a corrupt entry is detected and rebuilt; a
// folder that cannot be written, or a disk that fills up while writing,
// costs the cache entry but not the kernels and leaves no file behind;
// several processes compiling the same variant at once all succeed and leave
// one good entry.
//
//===----------------------------------------------------------------------===//

#include "runtime/Jit.h"
#include "dialect/VariantJson.h"
#include "runtime/Files.h"
#include "runtime/KernelCache.h"
#include "ScratchFolder.h"

#include "llvm/Support/ErrorHandling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace sattn;

namespace {

/// A fresh folder for one test of the kernel cache.
struct ScratchFolder : test::ScratchFolder {
  explicit ScratchFolder(const std::string &name)
      : test::ScratchFolder("jit", name) {}
};
using test::filesIn;

VariantParams smallVariant() {
  VariantResult r = parseVariantJson(
      R"({"name": "jit-test", "problem": {"heads": 2, "head_dim": 64,
          "grid": [1, 8, 16]}, "block": {"q": 64, "k": 32},
          "tail": {"bins": 2}})");
  EXPECT_TRUE(r) << r.issue.str();
  return *r.variant;
}

JitOptions optionsIn(const std::string &folder, const std::string &arch) {
  JitOptions o;
  o.compile.arch = arch;
  o.driverVersion = 13000;
  o.cacheFolder = folder;
  return o;
}

TEST(Jit, CompilesOnceThenLoadsFromTheCache) {
  ScratchFolder scratch("hit");
  const std::string &folder = scratch.path;
  JitResult first, second;
  ASSERT_TRUE(
      compileWithCache(smallVariant(), optionsIn(folder, "sm_80"), first)
          .isOk());
  EXPECT_FALSE(first.cacheHit);
  EXPECT_TRUE(first.cacheNote.empty()) << first.cacheNote;
  EXPECT_NE(first.ptx.find(".entry sattn_sparse_attention("),
            std::string::npos);
  ASSERT_EQ(filesIn(folder).size(), 1u);

  ASSERT_TRUE(
      compileWithCache(smallVariant(), optionsIn(folder, "sm_80"), second)
          .isOk());
  EXPECT_TRUE(second.cacheHit);
  EXPECT_EQ(second.ptx, first.ptx);
  EXPECT_EQ(writeManifestJson(second.manifest),
            writeManifestJson(first.manifest));
  // A cached plan is much cheaper than a compiled one.
  EXPECT_LT(second.milliseconds, first.milliseconds);
}

TEST(Jit, ThePtxHashIsTheSameCompiledOrCached) {
  // The cubin cache keys a PTX by this hash: a cached plan must find the
  // cubin its cold creation stored.
  ScratchFolder scratch("ptx-hash");
  JitResult compiled, cached;
  ASSERT_TRUE(compileWithCache(smallVariant(), optionsIn(scratch.path, "sm_80"),
                               compiled)
                  .isOk());
  ASSERT_TRUE(
      compileWithCache(smallVariant(), optionsIn(scratch.path, "sm_80"), cached)
          .isOk());
  ASSERT_TRUE(cached.cacheHit);
  EXPECT_EQ(compiled.ptxHash, fnv1a(compiled.ptx));
  EXPECT_EQ(cached.ptxHash, compiled.ptxHash);
}

TEST(Jit, TheKeyIsExact) {
  ScratchFolder scratch("key");
  const std::string &folder = scratch.path;
  JitResult result;
  VariantParams v = smallVariant();
  ASSERT_TRUE(compileWithCache(v, optionsIn(folder, "sm_80"), result).isOk());
  // Another arch, driver, tile parameter or variant field is another entry.
  ASSERT_TRUE(compileWithCache(v, optionsIn(folder, "sm_90a"), result).isOk());
  EXPECT_FALSE(result.cacheHit);
  EXPECT_NE(result.ptx.find(".target sm_90a"), std::string::npos);
  JitOptions otherDriver = optionsIn(folder, "sm_80");
  otherDriver.driverVersion = 12080;
  ASSERT_TRUE(compileWithCache(v, otherDriver, result).isOk());
  EXPECT_FALSE(result.cacheHit);
  JitOptions otherTile = optionsIn(folder, "sm_80");
  otherTile.compile.tuning.warpRows = 16;
  ASSERT_TRUE(compileWithCache(v, otherTile, result).isOk());
  EXPECT_FALSE(result.cacheHit);
  v.selection.density = 0.25;
  ASSERT_TRUE(compileWithCache(v, optionsIn(folder, "sm_80"), result).isOk());
  EXPECT_FALSE(result.cacheHit);
  EXPECT_EQ(filesIn(folder).size(), 5u);
}

/// Damages the single entry in `folder` with `damage` and checks that the
/// next request detects it, rebuilds the entry, and that the one after hits.
void expectRebuiltAfter(const std::string &name,
                        const std::function<void(const std::string &)> &damage,
                        const std::string &symptom) {
  ScratchFolder scratch(name);
  const std::string &folder = scratch.path;
  JitResult result;
  ASSERT_TRUE(
      compileWithCache(smallVariant(), optionsIn(folder, "sm_80"), result)
          .isOk());
  std::string original = result.ptx;
  std::string entry = folder + "/" + filesIn(folder).at(0);
  damage(entry);
  ASSERT_TRUE(
      compileWithCache(smallVariant(), optionsIn(folder, "sm_80"), result)
          .isOk());
  EXPECT_FALSE(result.cacheHit) << name;
  EXPECT_NE(result.cacheNote.find(symptom), std::string::npos)
      << result.cacheNote;
  EXPECT_EQ(result.ptx, original);
  ASSERT_TRUE(
      compileWithCache(smallVariant(), optionsIn(folder, "sm_80"), result)
          .isOk());
  EXPECT_TRUE(result.cacheHit) << name;
  EXPECT_TRUE(result.cacheNote.empty());
}

TEST(Jit, TruncatedEntryIsDetectedAndRebuilt) {
  expectRebuiltAfter(
      "truncated",
      [](const std::string &entry) {
        struct stat st;
        ASSERT_EQ(::stat(entry.c_str(), &st), 0);
        ASSERT_EQ(::truncate(entry.c_str(), st.st_size / 2), 0);
      },
      "truncated");
}

TEST(Jit, FlippedByteIsDetectedAndRebuilt) {
  expectRebuiltAfter(
      "flipped",
      [](const std::string &entry) {
        std::fstream file(entry,
                          std::ios::in | std::ios::out | std::ios::binary);
        file.seekg(-100, std::ios::end);
        char c;
        file.get(c);
        file.seekp(-100, std::ios::end);
        file.put(char(c ^ 0x20));
      },
      "checksum mismatch");
}

TEST(Jit, GarbageEntryIsDetectedAndRebuilt) {
  expectRebuiltAfter(
      "garbage",
      [](const std::string &entry) {
        std::ofstream(entry, std::ios::binary | std::ios::trunc)
            << "\x7f\x45\x4c\x46 not a cache entry";
      },
      "bad header");
}

TEST(Jit, UnwritableFolderCostsTheEntryNotTheKernels) {
  // Root ignores permissions: make the cache path unusable by putting a
  // file where a folder should be.
  ScratchFolder scratch("unwritable");
  const std::string &parent = scratch.path;
  ASSERT_EQ(::mkdir(parent.c_str(), 0755), 0);
  std::ofstream(parent + "/file") << "x";
  JitResult result;
  ASSERT_TRUE(compileWithCache(smallVariant(),
                               optionsIn(parent + "/file/cache", "sm_80"),
                               result)
                  .isOk());
  EXPECT_NE(result.ptx.find(".entry sattn_sparse_attention("),
            std::string::npos);
  EXPECT_NE(result.cacheNote.find("cannot write the kernel cache"),
            std::string::npos)
      << result.cacheNote;
  EXPECT_EQ(filesIn(parent), std::vector<std::string>{"file"});
}

TEST(Jit, FullDiskLeavesNoPartialEntry) {
  // In a child process, a file-size limit makes the entry's write fail the
  // way a full disk does (EFBIG instead of ENOSPC).
  ScratchFolder scratch("full");
  const std::string &folder = scratch.path;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    JitResult result;
    Status status =
        compileWithCache(smallVariant(), optionsIn(folder, "sm_80"), result);
    bool ok = status.isOk() && !result.ptx.empty() &&
              result.cacheNote.find("cannot write the kernel cache entry") !=
                  std::string::npos &&
              filesIn(folder).empty();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "the child saw a failed compile, a missing note or a partial file";
  EXPECT_TRUE(filesIn(folder).empty());
}

TEST(Jit, ConcurrentProcessesLeaveOneGoodEntry) {
  ScratchFolder scratch("concurrent");
  const std::string &folder = scratch.path;
  constexpr int kProcesses = 4;
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      JitResult result;
      Status status =
          compileWithCache(smallVariant(), optionsIn(folder, "sm_80"), result);
      ::_exit(status.isOk() && !result.ptx.empty() && result.cacheNote.empty()
                  ? 0
                  : 1);
    }
    children.push_back(child);
  }
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::vector<std::string> files = filesIn(folder);
  ASSERT_EQ(files.size(), 1u) << "temporary files left behind";
  EXPECT_NE(files[0].find(".sattn"), std::string::npos);
  JitResult result;
  ASSERT_TRUE(
      compileWithCache(smallVariant(), optionsIn(folder, "sm_80"), result)
          .isOk());
  EXPECT_TRUE(result.cacheHit);
  EXPECT_TRUE(result.cacheNote.empty());
}

TEST(Jit, AFatalCompilerErrorIsAStatusNotTheEndOfTheProcess) {
  Status status = guardFatalErrors(
      []() -> Status { llvm::report_fatal_error("a pass that gave up"); });
  EXPECT_EQ(status.code(), SATTN_ERROR_INTERNAL);
  EXPECT_EQ(status.message(),
            "the compiler hit a fatal error: a pass that gave up");
  // The compiler still works afterwards.
  JitOptions options;
  options.compile.arch = "sm_80";
  options.useCache = false;
  JitResult result;
  EXPECT_TRUE(compileWithCache(smallVariant(), options, result).isOk());
}

TEST(KernelCache, DefaultFolderFollowsTheEnvironment) {
  const char *home = std::getenv("HOME");
  std::string savedHome = home ? home : "";
  ::setenv("SATTN_CACHE_DIR", "/some/where", 1);
  EXPECT_EQ(defaultCacheFolder(), "/some/where");
  ::unsetenv("SATTN_CACHE_DIR");
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(defaultCacheFolder(), "/xdg/sattn");
  ::unsetenv("XDG_CACHE_HOME");
  ::setenv("HOME", "/home/user", 1);
  EXPECT_EQ(defaultCacheFolder(), "/home/user/.cache/sattn");
  if (home)
    ::setenv("HOME", savedHome.c_str(), 1);
  else
    ::unsetenv("HOME");
}

} // namespace
