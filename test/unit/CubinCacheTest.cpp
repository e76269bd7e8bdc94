//===- CubinCacheTest.cpp - The cubin cache, without a GPU ----------------===//
//
// What makes a cached cubin usable (the PTX, the GPU's compute capability,
// the driver version: any other is a miss); files written whole and
// checksummed; a damaged cubin detected, removed and rebuilt; a cubin the
// driver refuses rebuilt and rewritten; a folder that cannot be written, a
// disk that fills up or a failing linker costing the cubin, never the
// module. The driver's calls are stood in for by a fake that records them.
//
//===----------------------------------------------------------------------===//

#include "runtime/CubinCache.h"
#include "runtime/KernelModule.h"
#include "ScratchFolder.h"
#include "runtime/Files.h"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace sattn;

namespace {

struct ScratchFolder : test::ScratchFolder {
  explicit ScratchFolder(const std::string &name)
      : test::ScratchFolder("cubin", name) {}
};
using test::filesIn;

const std::string kPtx = ".version 8.0\n.target sm_90a\n.entry k() { ret; }\n";

CubinKey h100Key(const std::string &ptx = kPtx) {
  return cubinKeyFor(ptx, std::nullopt, 9, 0, 12040);
}

/// A cubin as the linker gives it: binary, with NUL bytes inside.
std::string cubinFor(const std::string &ptx) {
  return std::string("\x7f"
                     "ELF\0\x02",
                     6) +
         hex64(fnv1a(ptx)) + std::string(3000, '\0') + "end";
}

/// The driver, faked: builds cubinFor(ptx), loads any cubin that is not
/// `refused`, and records what it was asked to do.
struct FakeDriver {
  std::string ptx = kPtx;
  std::string refused;      // a cubin the driver will not load
  bool linkerFails = false; // cuLinkAddData fails
  bool ptxFails = false;    // cuModuleLoadDataEx fails
  int builds = 0, ptxLoads = 0;
  std::vector<std::string> loadedCubins;

  ModuleLoadSteps steps() {
    ModuleLoadSteps s;
    s.loadCubin = [this](const std::string &cubin) {
      if (cubin == refused)
        return Status::error(SATTN_ERROR_INVALID_KERNELS,
                             "cuModuleLoadData failed: "
                             "CUDA_ERROR_INVALID_IMAGE");
      loadedCubins.push_back(cubin);
      return Status::ok();
    };
    s.buildCubin = [this](std::string &cubin) {
      ++builds;
      if (linkerFails)
        return Status::error(SATTN_ERROR_INVALID_KERNELS,
                             "cuLinkAddData failed: CUDA_ERROR_INVALID_PTX");
      cubin = cubinFor(ptx);
      return Status::ok();
    };
    s.loadPtx = [this] {
      ++ptxLoads;
      return ptxFails ? Status::error(SATTN_ERROR_INVALID_KERNELS,
                                      "k: cuModuleLoadDataEx failed; JIT "
                                      "log: ptxas fatal: bad PTX")
                      : Status::ok();
    };
    return s;
  }
};

/// One load through the cache in `folder`: its outcome, after checking that
/// it succeeded.
CubinOutcome loadOnce(const std::string &folder, FakeDriver &driver,
                      const CubinKey &key = h100Key()) {
  CubinCache cache(folder);
  CubinOutcome outcome;
  Status status = loadThroughCubinCache(&cache, key, driver.steps(), outcome);
  EXPECT_TRUE(status.isOk()) << status.message();
  return outcome;
}

TEST(CubinCache, BuiltOnceThenLoadedFromTheCache) {
  ScratchFolder scratch("hit");
  FakeDriver driver;
  CubinOutcome first = loadOnce(scratch.path, driver);
  EXPECT_EQ(first.source, CubinSource::Built);
  EXPECT_TRUE(first.note.empty()) << first.note;
  std::vector<std::string> files = filesIn(scratch.path);
  ASSERT_EQ(files.size(), 1u) << "a temporary file left behind";
  EXPECT_NE(files[0].find(".cubin"), std::string::npos);

  CubinOutcome second = loadOnce(scratch.path, driver);
  EXPECT_EQ(second.source, CubinSource::Cached);
  EXPECT_TRUE(second.note.empty()) << second.note;
  EXPECT_EQ(driver.builds, 1);
  EXPECT_EQ(driver.ptxLoads, 0);
  // The cached bytes are the linker's, NUL bytes and all.
  ASSERT_EQ(driver.loadedCubins.size(), 2u);
  EXPECT_EQ(driver.loadedCubins[1], cubinFor(kPtx));
  EXPECT_STREQ(toString(second.source), "cached");
  EXPECT_STREQ(toString(first.source), "built");
  EXPECT_STREQ(toString(CubinSource::None), "none");
}

TEST(CubinCache, TheKeyHoldsThePtxTheDeviceAndTheDriver) {
  CubinKey key = h100Key();
  EXPECT_EQ(key.device, "sm_90");
  EXPECT_EQ(key.driverVersion, 12040);
  EXPECT_EQ(key.ptxBytes, kPtx.size());
  // The hash a caller already has (the kernel cache's) is the same key.
  EXPECT_EQ(cubinKeyFor(kPtx, fnv1a(kPtx), 9, 0, 12040).text(), key.text());

  CubinKey otherPtx = h100Key(kPtx + "// another kernel\n");
  CubinKey otherDevice = cubinKeyFor(kPtx, std::nullopt, 8, 9, 12040);
  CubinKey otherDriver = cubinKeyFor(kPtx, std::nullopt, 9, 0, 12080);
  EXPECT_EQ(otherDevice.device, "sm_89");
  for (const CubinKey *other : {&otherPtx, &otherDevice, &otherDriver}) {
    EXPECT_NE(other->text(), key.text());
    EXPECT_NE(other->digest(), key.digest());
  }

  // A cubin stored for one GPU and driver is never loaded for another.
  ScratchFolder scratch("key");
  CubinCache cache(scratch.path);
  std::string error;
  ASSERT_TRUE(cache.store(key, cubinFor(kPtx), &error)) << error;
  EXPECT_TRUE(cache.load(key).has_value());
  for (const CubinKey *other : {&otherPtx, &otherDevice, &otherDriver}) {
    std::string problem;
    EXPECT_FALSE(cache.load(*other, &problem).has_value());
    EXPECT_TRUE(problem.empty()) << problem;
  }
  FakeDriver driver;
  EXPECT_EQ(loadOnce(scratch.path, driver, otherDriver).source,
            CubinSource::Built);
  EXPECT_EQ(driver.builds, 1);
  EXPECT_EQ(filesIn(scratch.path).size(), 2u);
}

TEST(CubinCache, AFileUnderAnotherKeyIsAMissAndIsKept) {
  // Same file name, other key inside (what a digest collision looks like):
  // not ours to load, nor to remove.
  ScratchFolder scratch("collision");
  CubinCache cache(scratch.path);
  CubinKey key = h100Key(), other = cubinKeyFor(kPtx, std::nullopt, 9, 0, 1);
  std::string error;
  ASSERT_TRUE(cache.store(other, "other", &error)) << error;
  ASSERT_EQ(::rename(cache.pathFor(other).c_str(), cache.pathFor(key).c_str()),
            0);
  std::string problem;
  EXPECT_FALSE(cache.load(key, &problem).has_value());
  EXPECT_TRUE(problem.empty()) << problem;
  EXPECT_EQ(filesIn(scratch.path).size(), 1u);
}

void truncateToHalf(const std::string &path) {
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  ASSERT_EQ(::truncate(path.c_str(), st.st_size / 2), 0);
}

void flipAByteNearTheEnd(const std::string &path) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(-100, std::ios::end);
  char c;
  file.get(c);
  file.seekp(-100, std::ios::end);
  file.put(char(c ^ 0x20));
}

void overwriteWithGarbage(const std::string &path) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      << "\x7f\x45\x4c\x46 not a cache entry";
}

/// A damaged cubin goes through the whole load: reported in the note,
/// rebuilt from the PTX, rewritten; the next load hits.
void expectDamageRebuilt(const std::string &name,
                         void (*damage)(const std::string &),
                         const std::string &symptom) {
  ScratchFolder scratch(name);
  FakeDriver driver;
  ASSERT_EQ(loadOnce(scratch.path, driver).source, CubinSource::Built);
  damage(CubinCache(scratch.path).pathFor(h100Key()));

  CubinOutcome rebuilt = loadOnce(scratch.path, driver);
  EXPECT_EQ(rebuilt.source, CubinSource::Built) << name;
  EXPECT_NE(rebuilt.note.find(symptom), std::string::npos) << rebuilt.note;
  EXPECT_NE(rebuilt.note.find("the cubin is rebuilt"), std::string::npos)
      << rebuilt.note;
  EXPECT_EQ(driver.builds, 2);
  // Only whole cubins reach the driver.
  for (const std::string &cubin : driver.loadedCubins)
    EXPECT_EQ(cubin, cubinFor(kPtx)) << name;

  CubinOutcome again = loadOnce(scratch.path, driver);
  EXPECT_EQ(again.source, CubinSource::Cached) << name;
  EXPECT_TRUE(again.note.empty()) << again.note;
  EXPECT_EQ(driver.builds, 2);
  EXPECT_EQ(filesIn(scratch.path).size(), 1u);
}

TEST(CubinCache, TruncatedCubinIsDetectedAndRebuilt) {
  expectDamageRebuilt("truncated", truncateToHalf, "truncated");
}

TEST(CubinCache, FlippedByteIsDetectedAndRebuilt) {
  expectDamageRebuilt("flipped", flipAByteNearTheEnd, "checksum mismatch");
}

TEST(CubinCache, GarbageFileIsDetectedAndRebuilt) {
  expectDamageRebuilt("garbage", overwriteWithGarbage, "bad header");
}

TEST(CubinCache, ADamagedCubinIsRemovedOnLoad) {
  ScratchFolder scratch("removed");
  CubinCache cache(scratch.path);
  std::string error, problem;
  ASSERT_TRUE(cache.store(h100Key(), cubinFor(kPtx), &error)) << error;
  flipAByteNearTheEnd(cache.pathFor(h100Key()));
  EXPECT_FALSE(cache.load(h100Key(), &problem).has_value());
  EXPECT_NE(problem.find("checksum mismatch"), std::string::npos) << problem;
  EXPECT_NE(problem.find(cache.pathFor(h100Key())), std::string::npos);
  EXPECT_TRUE(filesIn(scratch.path).empty());
}

TEST(CubinCache, ACubinTheDriverRefusesIsRebuiltAndRewritten) {
  ScratchFolder scratch("refused");
  CubinCache cache(scratch.path);
  std::string error;
  // A whole, well-checksummed file whose cubin the driver will not load.
  ASSERT_TRUE(cache.store(h100Key(), "stale machine code", &error)) << error;
  FakeDriver driver;
  driver.refused = "stale machine code";
  CubinOutcome outcome = loadOnce(scratch.path, driver);
  EXPECT_EQ(outcome.source, CubinSource::Built);
  EXPECT_NE(outcome.note.find("the driver refused the cached cubin"),
            std::string::npos)
      << outcome.note;
  EXPECT_NE(outcome.note.find("CUDA_ERROR_INVALID_IMAGE"), std::string::npos);
  EXPECT_EQ(cache.load(h100Key()), cubinFor(kPtx)) << "not rewritten";
  EXPECT_EQ(loadOnce(scratch.path, driver).source, CubinSource::Cached);
  EXPECT_EQ(driver.builds, 1);
}

TEST(CubinCache, UnwritableFolderCostsTheCubinNotTheModule) {
  // Root ignores permissions: a file where the folder should be.
  ScratchFolder scratch("unwritable");
  ASSERT_EQ(::mkdir(scratch.path.c_str(), 0755), 0);
  std::ofstream(scratch.path + "/file") << "x";
  FakeDriver driver;
  for (int i = 0; i < 2; ++i) {
    CubinOutcome outcome = loadOnce(scratch.path + "/file/cache", driver);
    EXPECT_EQ(outcome.source, CubinSource::Built);
    EXPECT_NE(outcome.note.find("cannot write the cubin cache"),
              std::string::npos)
        << outcome.note;
  }
  EXPECT_EQ(driver.loadedCubins.size(), 2u);
  EXPECT_EQ(driver.ptxLoads, 0);
  EXPECT_EQ(filesIn(scratch.path), std::vector<std::string>{"file"});
}

TEST(CubinCache, FullDiskLeavesNoPartialCubin) {
  // In a child, a file-size limit makes the write fail the way a full disk
  // does (EFBIG instead of ENOSPC).
  ScratchFolder scratch("full");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {1024, 1024};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    FakeDriver driver;
    CubinCache cache(scratch.path);
    CubinOutcome outcome;
    Status status =
        loadThroughCubinCache(&cache, h100Key(), driver.steps(), outcome);
    bool ok =
        status.isOk() && outcome.source == CubinSource::Built &&
        driver.loadedCubins.size() == 1 &&
        outcome.note.find("cannot write the cubin") != std::string::npos &&
        filesIn(scratch.path).empty();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "the child saw a failed load, a missing note or a partial file";
  EXPECT_TRUE(filesIn(scratch.path).empty());
}

TEST(CubinCache, AFailingLinkerFallsBackToThePtx) {
  ScratchFolder scratch("linker");
  FakeDriver driver;
  driver.linkerFails = true;
  CubinOutcome outcome = loadOnce(scratch.path, driver);
  EXPECT_EQ(outcome.source, CubinSource::None);
  EXPECT_EQ(driver.ptxLoads, 1);
  EXPECT_NE(outcome.note.find("CUDA_ERROR_INVALID_PTX"), std::string::npos)
      << outcome.note;
  EXPECT_TRUE(filesIn(scratch.path).empty());
}

TEST(CubinCache, APtxThatDoesNotCompileReportsThePtxLoadsLog) {
  // The status is the one the runtime gave before the cubin cache: the
  // PTX load's, with the JIT log.
  ScratchFolder scratch("bad-ptx");
  FakeDriver driver;
  driver.linkerFails = driver.ptxFails = true;
  CubinCache cache(scratch.path);
  CubinOutcome outcome;
  Status status =
      loadThroughCubinCache(&cache, h100Key(), driver.steps(), outcome);
  EXPECT_EQ(status.code(), SATTN_ERROR_INVALID_KERNELS);
  EXPECT_NE(status.message().find("JIT log: ptxas fatal"), std::string::npos)
      << status.message();
  EXPECT_TRUE(filesIn(scratch.path).empty());
}

TEST(CubinCache, WithoutACacheThePtxIsLoadedDirectly) {
  FakeDriver driver;
  CubinOutcome outcome;
  ASSERT_TRUE(
      loadThroughCubinCache(nullptr, CubinKey(), driver.steps(), outcome)
          .isOk());
  EXPECT_EQ(outcome.source, CubinSource::None);
  EXPECT_EQ(driver.builds, 0);
  EXPECT_EQ(driver.ptxLoads, 1);
  EXPECT_TRUE(outcome.note.empty());
}

TEST(CubinCache, PtxWithSetmaxnregIsCompiledWhole) {
  EXPECT_TRUE(needsWholeProgramCompile(
      ".entry k()\n{\n\tsetmaxnreg.dec.sync.aligned.u32 40;\n\tret;\n}\n"));
  EXPECT_TRUE(needsWholeProgramCompile("setmaxnreg.inc.sync.aligned.u32 232;"));
  EXPECT_TRUE(needsWholeProgramCompile(
      "\t@%p1 bra L;\n    setmaxnreg.inc.sync.aligned.u32 232;\n"));
  // Not the instruction: absent, in a comment, or inside another token.
  EXPECT_FALSE(needsWholeProgramCompile(".entry k()\n{\n\tret;\n}\n"));
  EXPECT_FALSE(needsWholeProgramCompile("\t// setmaxnreg.inc 232\n"));
  EXPECT_FALSE(needsWholeProgramCompile("\tcall no_setmaxnreg.x;\n"));
}

TEST(CubinCache, ConcurrentProcessesLeaveOneGoodCubin) {
  ScratchFolder scratch("concurrent");
  constexpr int kProcesses = 4;
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      FakeDriver driver;
      CubinCache cache(scratch.path);
      CubinOutcome outcome;
      Status status =
          loadThroughCubinCache(&cache, h100Key(), driver.steps(), outcome);
      ::_exit(status.isOk() && outcome.note.empty() ? 0 : 1);
    }
    children.push_back(child);
  }
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(filesIn(scratch.path).size(), 1u) << "temporary files left";
  EXPECT_EQ(CubinCache(scratch.path).load(h100Key()), cubinFor(kPtx));
}

} // namespace

// The linker's options, through a stand-in for the driver's entry points: the
// JIT is asked to compile on every core (CU_JIT_SPLIT_COMPILE = 0), and a
// driver that refuses the option gets the same link without it.
namespace {
namespace split {

std::vector<std::vector<int>> creates; // each cuLinkCreate's options
bool refuseSplitCompile = false;
const char kCubin[] = "\x7f"
                      "ELF cubin";

cu::Result linkCreate(unsigned count, int *options, void **values,
                      cu::LinkState *state) {
  creates.emplace_back(options, options + count);
  for (unsigned i = 0; i < count; ++i)
    if (options[i] == cu::kJitSplitCompile &&
        (refuseSplitCompile || values[i] != nullptr))
      return cu::kErrorInvalidValue;
  *state = reinterpret_cast<cu::LinkState>(uintptr_t(1));
  return cu::kSuccess;
}
cu::Result linkAddData(cu::LinkState, int type, void *, size_t, const char *,
                       unsigned, int *, void **) {
  return type == cu::kJitInputPtx ? cu::kSuccess : cu::kErrorInvalidValue;
}
cu::Result linkComplete(cu::LinkState, void **cubin, size_t *size) {
  *cubin = const_cast<char *>(kCubin);
  *size = sizeof(kCubin) - 1;
  return cu::kSuccess;
}
cu::Result linkDestroy(cu::LinkState) { return cu::kSuccess; }

CudaDriver driver() {
  CudaDriver cuda = CudaDriver::empty();
  cuda.linkCreate = linkCreate;
  cuda.linkAddData = linkAddData;
  cuda.linkComplete = linkComplete;
  cuda.linkDestroy = linkDestroy;
  return cuda;
}

} // namespace split

TEST(CubinLink, TheJitCompilesOnEveryCore) {
  split::creates.clear();
  split::refuseSplitCompile = false;
  CudaDriver cuda = split::driver();
  std::string cubin;
  Status status = linkPtx(cuda, kPtx, "k", cubin);
  ASSERT_TRUE(status.isOk()) << status.message();
  EXPECT_EQ(cubin, std::string(split::kCubin));
  ASSERT_EQ(split::creates.size(), 1u);
  EXPECT_EQ(split::creates[0].back(), cu::kJitSplitCompile);
}

TEST(CubinLink, ADriverWithoutSplitCompileLinksWithoutIt) {
  split::creates.clear();
  split::refuseSplitCompile = true;
  CudaDriver cuda = split::driver();
  std::string cubin;
  Status status = linkPtx(cuda, kPtx, "k", cubin);
  ASSERT_TRUE(status.isOk()) << status.message();
  EXPECT_EQ(cubin, std::string(split::kCubin));
  ASSERT_EQ(split::creates.size(), 2u);
  EXPECT_EQ(split::creates[1].size(), 4u);
  for (int option : split::creates[1])
    EXPECT_NE(option, cu::kJitSplitCompile);
  split::refuseSplitCompile = false;
}

} // namespace
