//===- PlanCompileTest.cpp - How a plan gets its kernels, without a GPU ---===//
//
// sattn_plan_create gets its kernels through compileForGpu (shared with
// sattn_kernels_compile): the arch from the variant or the GPU, the tuning
// database, then the kernel cache in $SATTN_CACHE_DIR. Here with a GPU
// described by plain values: a second plan loads from the cache; a cache
// folder that cannot be written, or a disk that fills up while the entry is
// written, costs the entry and leaves nothing half-written; a corrupt entry
// is rebuilt; and the compiled manifest of today's variants is walked the
// way a plan walks it, so that a stage without a kernel is refused by name.
//
//===----------------------------------------------------------------------===//

#include "dialect/VariantJson.h"
#include "runtime/Jit.h"
#include "runtime/LaunchProgram.h"
#include "ScratchFolder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace sattn;

namespace {

/// $SATTN_CACHE_DIR (and $SATTN_TUNING_DB) pointed at a fresh folder for
/// one test; removed, and the environment restored, when it ends.
struct ScratchCache : test::ScratchFolder {
  explicit ScratchCache(const std::string &name)
      : test::ScratchFolder("plan", name) {
    EXPECT_EQ(::mkdir(path.c_str(), 0755), 0);
    ::setenv("SATTN_CACHE_DIR", cache().c_str(), 1);
    ::setenv("SATTN_TUNING_DB", (path + "/tuning.json").c_str(), 1);
  }
  ~ScratchCache() {
    ::unsetenv("SATTN_CACHE_DIR");
    ::unsetenv("SATTN_TUNING_DB");
  }
  std::string cache() const { return path + "/cache"; }
};
using test::filesIn;

VariantParams planVariant(const std::string &arch = "auto") {
  VariantResult r = parseVariantJson(
      R"({"name": "plan-test", "problem": {"heads": 2, "head_dim": 64,
          "grid": [2, 8, 16]}, "block": {"q": 64, "k": 32},
          "reorder": {"kind": "hilbert2d"}, "tail": {"bins": 2},
          "schedule": {"dense_warmup_steps": 2, "refresh_every": 3},
          "target": {"arch": ")" +
      arch + R"("}})");
  EXPECT_TRUE(r) << r.issue.str();
  return *r.variant;
}

GpuTarget testGpu(const std::string &arch = "sm_80") {
  GpuTarget gpu;
  gpu.arch = arch;
  gpu.name = "Test GPU";
  gpu.ordinal = 0;
  gpu.driverVersion = 13000;
  return gpu;
}

TEST(PlanCompile, ASecondPlanLoadsFromTheCache) {
  ScratchCache scratch("hit");
  GpuKernels first, second;
  ASSERT_TRUE(compileForGpu(planVariant(), testGpu(), first).isOk());
  EXPECT_FALSE(first.jit.cacheHit);
  EXPECT_EQ(first.arch, "sm_80"); // auto: the GPU's own
  EXPECT_NE(first.tuning.find("defaults"), std::string::npos)
      << first.tuning;
  ASSERT_EQ(filesIn(scratch.cache()).size(), 1u);
  ASSERT_TRUE(compileForGpu(planVariant(), testGpu(), second).isOk());
  EXPECT_TRUE(second.jit.cacheHit);
  EXPECT_EQ(second.jit.ptx, first.jit.ptx);
  EXPECT_TRUE(second.jit.cacheNote.empty()) << second.jit.cacheNote;
}

TEST(PlanCompile, AnSm90aVariantOnAnotherGpuIsRefused) {
  ScratchCache scratch("arch");
  GpuKernels kernels;
  Status status =
      compileForGpu(planVariant("sm_90a"), testGpu("sm_80"), kernels);
  EXPECT_EQ(status.code(), SATTN_ERROR_INVALID_VARIANT);
  EXPECT_NE(status.message().find("is not an sm_90 part"), std::string::npos)
      << status.message();
  EXPECT_TRUE(filesIn(scratch.cache()).empty());
}

TEST(PlanCompile, AnUnwritableCacheCostsTheEntryNotTheKernels) {
  ScratchCache scratch("unwritable");
  // Root ignores permissions: a file where the cache folder should be.
  std::ofstream(scratch.path + "/file") << "x";
  ::setenv("SATTN_CACHE_DIR", (scratch.path + "/file/cache").c_str(), 1);
  GpuKernels kernels;
  ASSERT_TRUE(compileForGpu(planVariant(), testGpu(), kernels).isOk());
  EXPECT_FALSE(kernels.jit.ptx.empty());
  EXPECT_FALSE(kernels.jit.cacheHit);
  EXPECT_NE(kernels.jit.cacheNote.find("cannot write the kernel cache"),
            std::string::npos)
      << kernels.jit.cacheNote;
  EXPECT_EQ(filesIn(scratch.path), std::vector<std::string>{"file"});
}

TEST(PlanCompile, ACorruptEntryIsRebuilt) {
  ScratchCache scratch("corrupt");
  GpuKernels kernels;
  ASSERT_TRUE(compileForGpu(planVariant(), testGpu(), kernels).isOk());
  std::vector<std::string> files = filesIn(scratch.cache());
  ASSERT_EQ(files.size(), 1u);
  std::string entry = scratch.cache() + "/" + files[0];
  struct stat st;
  ASSERT_EQ(::stat(entry.c_str(), &st), 0);
  ASSERT_EQ(::truncate(entry.c_str(), st.st_size - 10), 0);

  GpuKernels rebuilt;
  ASSERT_TRUE(compileForGpu(planVariant(), testGpu(), rebuilt).isOk());
  EXPECT_FALSE(rebuilt.jit.cacheHit);
  EXPECT_NE(rebuilt.jit.cacheNote.find("truncated"), std::string::npos)
      << rebuilt.jit.cacheNote;
  EXPECT_EQ(rebuilt.jit.ptx, kernels.jit.ptx);
  GpuKernels again;
  ASSERT_TRUE(compileForGpu(planVariant(), testGpu(), again).isOk());
  EXPECT_TRUE(again.jit.cacheHit);
}

TEST(PlanCompile, AFullDiskLeavesNothingHalfWritten) {
  // In a child process, a file-size limit makes the entry's write fail
  // part way through, the way a full disk does (EFBIG instead of ENOSPC).
  ScratchCache scratch("full");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {16384, 16384};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    GpuKernels kernels;
    Status status = compileForGpu(planVariant(), testGpu(), kernels);
    int code = !status.isOk()                ? 2
               : kernels.jit.ptx.size() < 16384 ? 3
               : kernels.jit.cacheNote.find("File too large") ==
                       std::string::npos
                   ? 4
                   : 0;
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "2: the compile failed, 3: the entry fits the limit (the test "
         "proves nothing), 4: no note that the write failed with EFBIG";
  EXPECT_TRUE(filesIn(scratch.cache()).empty())
      << "a partial file was left: " << filesIn(scratch.cache())[0];
}

TEST(PlanCompile, AStageWithoutAKernelIsRefusedByName) {
  // Beyond the select kernel's 4096 groups per row the stage gets no
  // kernel: the compiled manifest says why, and the launch program refuses
  // it naming the stage and the reason (through the manifest's JSON, as the
  // cache stores it).
  ScratchCache scratch("stages");
  VariantResult many = parseVariantJson(
      R"({"name": "many-groups", "problem": {"heads": 1, "head_dim": 64,
          "grid": [4, 128, 256]}, "block": {"k": 16}, "tail": {"bins": 0}})");
  ASSERT_TRUE(many) << many.issue.str();
  GpuKernels kernels;
  ASSERT_TRUE(compileForGpu(*many.variant, testGpu(), kernels).isOk());
  Manifest manifest;
  std::string error;
  ASSERT_TRUE(parseManifestJson(writeManifestJson(kernels.jit.manifest),
                                manifest, error))
      << error;
  auto missing =
      std::find_if(manifest.stages.begin(), manifest.stages.end(),
                   [](const ManifestStage &s) { return s.kernels.empty(); });
  ASSERT_NE(missing, manifest.stages.end());
  EXPECT_EQ(missing->op, "sattn.select");
  std::string why = "the select kernel cannot take 8192 key groups of 16 "
                    "tokens per row";
  EXPECT_NE(missing->note.find(why), std::string::npos) << missing->note;
  std::map<std::string, uint64_t> owned;
  uint64_t next = 0x100000;
  for (const ManifestBuffer &buffer : manifest.buffers)
    owned[buffer.name] = next += 0x100000;
  LaunchProgram program;
  Status status = LaunchProgram::build(manifest, owned, program);
  EXPECT_EQ(status.code(), SATTN_ERROR_INVALID_VARIANT);
  EXPECT_NE(status.message().find("stage sattn.select has no GPU kernel yet (" +
                                  why),
            std::string::npos)
      << status.message();
}

TEST(PlanCompile, EveryStageHasKernelsWithAndWithoutAdaptiveDensities) {
  ScratchCache scratch("adaptive");
  for (bool adaptive : {false, true}) {
    VariantParams variant = planVariant();
    variant.adaptive.enabled = adaptive;
    GpuKernels kernels;
    ASSERT_TRUE(compileForGpu(variant, testGpu(), kernels).isOk());
    bool sawAdaptive = false;
    for (const ManifestStage &stage : kernels.jit.manifest.stages) {
      EXPECT_FALSE(stage.kernels.empty()) << stage.op << ": " << stage.note;
      sawAdaptive |= stage.op == "sattn.adaptive_density";
    }
    EXPECT_EQ(sawAdaptive, adaptive);
  }
}

} // namespace
