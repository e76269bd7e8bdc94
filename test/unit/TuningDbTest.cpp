//===- TuningDbTest.cpp - The tuning database, without a GPU --------------===//
//
// Keys (what the variant hash and the shape bucket do and do not cover),
// reading and writing, merging of two sweeps (sequential and concurrent
// processes), a corrupt file (reported, never overwritten), and what the
// runtime chooses from it: the best passing candidate, or the defaults with
// the reason.
//
//===----------------------------------------------------------------------===//

#include "runtime/TuningDb.h"
#include "dialect/VariantJson.h"
#include "runtime/Files.h"
#include "ScratchFolder.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace sattn;

namespace {

VariantParams wan() {
  VariantResult r = readVariantFile(SATTN_EXAMPLES_DIR "/wan2.1-480p.json");
  EXPECT_TRUE(r) << r.issue.str();
  return *r.variant;
}

/// A fresh folder for one test, with the database at db/tuning.json in it.
struct ScratchDb {
  explicit ScratchDb(const std::string &name)
      : scratch("tuning", name), folder(scratch.path),
        path(folder + "/db/tuning.json") {}
  test::ScratchFolder scratch;
  std::string folder, path;
};

TuningParams params(int64_t keyTile, int64_t stages, int64_t warpRows) {
  TuningParams p;
  p.keyTile = keyTile;
  p.stages = stages;
  p.warpRows = warpRows;
  return p;
}

TuningMeasurement measured(TuningParams p, double ms) {
  TuningMeasurement m;
  m.params = p;
  m.ms = ms;
  m.relL2 = 3e-3;
  m.date = "2026-11-23T12:00:00Z";
  return m;
}

TuningMeasurement failed(TuningParams p, const std::string &why) {
  TuningMeasurement m;
  m.params = p;
  m.failure = why;
  return m;
}

TuningKey keyOf(const std::string &gpu = "NVIDIA H100 80GB HBM3") {
  return tuningKeyFor(wan(), 0.1, gpu, 13000, "sattn 0.1.0 (MLIR 22.1.8)");
}

TEST(TuningKey, VariantHashCoversTheKernelNotTheSizesOrSchedule) {
  VariantParams a = wan(), b = wan();
  b.name = "renamed";
  b.problem.heads = 12;
  b.problem.grid = {21, 45, 80};
  b.selection.density = 0.5;
  b.schedule.denseWarmupSteps = 3;
  b.target.arch = Arch::SM90a;
  EXPECT_EQ(variantHash(a), variantHash(b));
  for (auto change : {+[](VariantParams &v) { v.block.k = 64; },
                      +[](VariantParams &v) { v.problem.headDim = 64; },
                      +[](VariantParams &v) { v.tail.bins = 8; },
                      +[](VariantParams &v) { v.problem.dtype = DType::FP16; },
                      +[](VariantParams &v) { v.linear.enabled = true; }}) {
    VariantParams c = wan();
    change(c);
    EXPECT_NE(variantHash(a), variantHash(c)) << writeVariantJson(c, -1);
  }
}

TEST(TuningKey, ShapeBucketRoundsSizesAndDensity) {
  ProblemParams p = wan().problem; // 1 x 40 heads, S = 32760
  EXPECT_EQ(shapeBucket(p, 0.1), "bh64-s32768-d0.1");
  EXPECT_EQ(shapeBucket(p, 0.12), "bh64-s32768-d0.1");
  EXPECT_EQ(shapeBucket(p, 0.3), "bh64-s32768-d0.25");
  EXPECT_EQ(shapeBucket(p, 0.7), "bh64-s32768-d0.5");
  EXPECT_EQ(shapeBucket(p, 0.72), "bh64-s32768-d1");
  EXPECT_EQ(shapeBucket(p, 0.01), "bh64-s32768-d0.05");
  p.heads = 64;
  p.grid = {21, 30, 53};
  EXPECT_EQ(shapeBucket(p, 1.0), "bh64-s65536-d1");
  EXPECT_FALSE(keyOf("NVIDIA H100 80GB HBM3") == keyOf("NVIDIA H200"));
}

TEST(TuningEntry, BestIsTheFastestThatPassed) {
  TuningEntry e;
  EXPECT_EQ(e.best(), nullptr);
  e.record(failed(params(128, 2, 32), "CUDA_ERROR_ILLEGAL_ADDRESS"));
  EXPECT_EQ(e.best(), nullptr);
  e.record(measured(params(64, 2, 0), 4.3));
  e.record(measured(params(64, 3, 32), 4.1));
  e.record(measured(params(32, 2, 16), 4.6));
  ASSERT_NE(e.best(), nullptr);
  EXPECT_EQ(e.best()->params, params(64, 3, 32));
  // Measured again: the new result replaces the old one.
  e.record(measured(params(64, 3, 32), 4.9));
  EXPECT_EQ(e.measurements.size(), 4u);
  EXPECT_EQ(e.best()->params, params(64, 2, 0));
}

TEST(TuningDb, RoundTripsThroughJson) {
  TuningDb db;
  TuningEntry e;
  e.key = keyOf();
  e.variantName = "wan2.1-480p";
  e.record(measured(TuningParams(), 4.35));
  e.record(measured(params(64, 3, 32), 4.1));
  e.record(failed(params(128, 4, 32), "too much shared memory: 240000 B"));
  db.merge(e);
  std::string text = db.toJson();
  EXPECT_NE(text.find("\"best\""), std::string::npos);
  EXPECT_NE(text.find("\"default\""), std::string::npos);
  TuningDb back;
  std::string error;
  ASSERT_TRUE(TuningDb::fromJson(text, back, &error)) << error;
  EXPECT_EQ(back.toJson(), text);
  const TuningEntry *found = back.find(keyOf());
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->measurements.size(), 3u);
  EXPECT_EQ(found->best()->params, params(64, 3, 32));
  EXPECT_EQ(found->find(params(128, 4, 32))->failure,
            "too much shared memory: 240000 B");
  EXPECT_EQ(back.find(keyOf("another GPU")), nullptr);
}

TEST(TuningDb, MissingFileIsEmptyAndCorruptFileIsRefused) {
  ScratchDb scratch("corrupt");
  TuningDb db;
  std::string error;
  ASSERT_TRUE(TuningDb::read(scratch.path, db, &error)) << error;
  EXPECT_TRUE(db.entries().empty());

  ASSERT_TRUE(makeFolders(scratch.folder + "/db", &error)) << error;
  for (const char *bad : {"{\"format\": \"sattn-tuning-db 1\", \"entr",
                          "{\"format\": \"something else\", \"entries\": []}",
                          "{\"format\": \"sattn-tuning-db 1\", \"entries\": "
                          "[{\"variant_hash\": 1}]}"}) {
    std::ofstream(scratch.path) << bad;
    EXPECT_FALSE(TuningDb::read(scratch.path, db, &error)) << bad;
    EXPECT_NE(error.find(scratch.path), std::string::npos) << error;
    // A sweep never overwrites what it cannot read.
    TuningEntry e;
    e.key = keyOf();
    e.record(measured(TuningParams(), 4.0));
    EXPECT_FALSE(TuningDb::mergeInto(scratch.path, e, &error));
    std::string text;
    ASSERT_TRUE(readWholeFile(scratch.path, text, &error));
    EXPECT_EQ(text, bad);
  }
}

TEST(TuningDb, TwoSweepsMergeAndKeepOtherEntries) {
  ScratchDb scratch("merge");
  std::string error;
  TuningEntry first, second, other;
  first.key = second.key = keyOf();
  other.key = keyOf("NVIDIA H200");
  first.record(measured(TuningParams(), 4.35));
  first.record(measured(params(64, 3, 32), 4.2));
  second.record(measured(params(32, 2, 16), 4.0));
  second.record(measured(params(64, 3, 32), 4.25)); // measured again
  other.record(measured(TuningParams(), 3.9));
  ASSERT_TRUE(TuningDb::mergeInto(scratch.path, first, &error)) << error;
  ASSERT_TRUE(TuningDb::mergeInto(scratch.path, other, &error)) << error;
  ASSERT_TRUE(TuningDb::mergeInto(scratch.path, second, &error)) << error;

  TuningDb db;
  ASSERT_TRUE(TuningDb::read(scratch.path, db, &error)) << error;
  ASSERT_EQ(db.entries().size(), 2u);
  const TuningEntry *e = db.find(keyOf());
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->measurements.size(), 3u);
  EXPECT_DOUBLE_EQ(e->find(params(64, 3, 32))->ms, 4.25);
  EXPECT_EQ(e->best()->params, params(32, 2, 16));
  EXPECT_NE(db.find(keyOf("NVIDIA H200")), nullptr);
}

TEST(TuningDb, ConcurrentWritersLoseNothing) {
  ScratchDb scratch("concurrent");
  constexpr int kWriters = 6;
  std::vector<pid_t> children;
  for (int i = 0; i < kWriters; ++i) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      bool ok = true;
      for (int round = 0; round < 5; ++round) {
        TuningEntry e;
        e.key = keyOf();
        e.record(measured(params(32 << (i % 3), 2 + round % 3, 16 * (i / 3)),
                          1.0 + i + 0.1 * round));
        std::string error;
        ok &= TuningDb::mergeInto(scratch.path, e, &error);
      }
      ::_exit(ok ? 0 : 1);
    }
    children.push_back(child);
  }
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  TuningDb db;
  std::string error;
  ASSERT_TRUE(TuningDb::read(scratch.path, db, &error)) << error;
  const TuningEntry *e = db.find(keyOf());
  ASSERT_NE(e, nullptr);
  // Writer i measured key tile 32 << (i % 3) with warp rows 16 * (i / 3)
  // at stages 2, 3, 4: 6 writers x 3 stage counts, all distinct.
  EXPECT_EQ(e->measurements.size(), size_t(kWriters * 3));
}

TEST(TuningDb, RuntimeChoosesTheBestOrSaysWhyNot) {
  ScratchDb scratch("choose");
  std::string source;
  TuningParams chosen = chooseTuning(scratch.path, keyOf(), &source);
  EXPECT_EQ(chosen, TuningParams());
  EXPECT_EQ(source.rfind("defaults (no tuning entry in " + scratch.path, 0), 0u)
      << source;
  EXPECT_NE(source.find("NVIDIA H100 80GB HBM3"), std::string::npos);

  TuningEntry e;
  e.key = keyOf();
  e.record(measured(TuningParams(), 4.35));
  e.record(measured(params(64, 3, 32), 4.1));
  std::string error;
  ASSERT_TRUE(TuningDb::mergeInto(scratch.path, e, &error)) << error;
  chosen = chooseTuning(scratch.path, keyOf(), &source);
  EXPECT_EQ(chosen, params(64, 3, 32));
  EXPECT_NE(source.find("tuned"), std::string::npos) << source;
  EXPECT_NE(source.find("4.100 ms vs 4.350 ms with the defaults"),
            std::string::npos)
      << source;
  // Another GPU, driver or compiler: the defaults.
  EXPECT_EQ(chooseTuning(scratch.path, keyOf("NVIDIA A100"), &source),
            TuningParams());
  TuningKey newer = keyOf();
  newer.compiler = "sattn 0.2.0 (MLIR 22.1.8)";
  EXPECT_EQ(chooseTuning(scratch.path, newer, &source), TuningParams());

  std::ofstream(scratch.path) << "not json";
  EXPECT_EQ(chooseTuning(scratch.path, keyOf(), &source), TuningParams());
  EXPECT_NE(source.find("unreadable"), std::string::npos) << source;
}

} // namespace
