//===- VariantJsonTest.cpp - The variant JSON reader and writer -----------===//

#include "dialect/VariantJson.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

using namespace sattn;

namespace {

const char *kMinimal = R"({"problem": {"heads": 2, "grid": [3, 4, 5]}})";

VariantParams parseOrDie(const std::string &text) {
  VariantResult r = parseVariantJson(text);
  EXPECT_TRUE(r) << r.issue.str();
  return r ? *r.variant : VariantParams{};
}

TEST(VariantJson, MinimalVariantTakesEveryDefault) {
  VariantParams v = parseOrDie(kMinimal);
  VariantParams expected;
  expected.problem.heads = 2;
  expected.problem.grid = {3, 4, 5};
  EXPECT_EQ(v, expected);
  // The documented defaults, spelled out so that a changed default fails here.
  EXPECT_EQ(v.name, "variant");
  EXPECT_EQ(v.problem.batch, 1);
  EXPECT_EQ(v.problem.headDim, 128);
  EXPECT_EQ(v.problem.textTokens, 0);
  EXPECT_EQ(v.problem.textPosition, TextPosition::Last);
  EXPECT_EQ(v.problem.dtype, DType::BF16);
  EXPECT_FALSE(v.problem.scale.has_value());
  EXPECT_DOUBLE_EQ(v.problem.softmaxScale(), 1 / std::sqrt(128.0));
  EXPECT_EQ(v.reorder.kind, ReorderKind::Identity);
  EXPECT_EQ(v.reorder.tile, (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(v.block.q, 128);
  EXPECT_EQ(v.block.k, 128);
  EXPECT_EQ(v.scoring.poolQ, 16);
  EXPECT_EQ(v.scoring.poolK, 16);
  EXPECT_EQ(v.scoring.aggregate, ScoreAggregate::SoftmaxSum);
  EXPECT_EQ(v.levels(), (std::vector<int64_t>{128}));
  EXPECT_EQ(v.selection.rule, SelectionRule::TopK);
  EXPECT_DOUBLE_EQ(v.selection.density, 0.3);
  EXPECT_DOUBLE_EQ(v.selection.p, 0.9);
  EXPECT_DOUBLE_EQ(v.selection.threshold, 0.01);
  EXPECT_EQ(v.selection.keep,
            (std::vector<KeepGroup>{KeepGroup::Text, KeepGroup::Diagonal}));
  EXPECT_EQ(v.schedule.denseWarmupSteps, 0);
  EXPECT_EQ(v.schedule.refreshEvery, 1);
  EXPECT_DOUBLE_EQ(v.schedule.densityDecay, 0);
  EXPECT_DOUBLE_EQ(v.schedule.minDensity, 0);
  EXPECT_TRUE(v.schedule.densityByStep.empty());
  EXPECT_FALSE(v.adaptive.enabled);
  EXPECT_EQ(v.tail.bins, 0);
  EXPECT_FALSE(v.linear.enabled);
  EXPECT_EQ(v.linear.routing, (std::vector<Route>{Route::Hybrid}));
  EXPECT_EQ(v.target.arch, Arch::Auto);
  EXPECT_EQ(v.problem.seqLen(), 60);
}

TEST(VariantJson, AdaptiveSectionTurnsItOn) {
  VariantParams v = parseOrDie(
      R"({"problem": {"heads": 1, "grid": [1, 1, 1]}, "adaptive": {}})");
  EXPECT_TRUE(v.adaptive.enabled);
  EXPECT_DOUBLE_EQ(v.adaptive.targetRecall, 0.95);
  v = parseOrDie(R"({"problem": {"heads": 1, "grid": [1, 1, 1]},
                     "adaptive": {"enabled": false, "target_recall": 0.8}})");
  EXPECT_FALSE(v.adaptive.enabled);
  EXPECT_DOUBLE_EQ(v.adaptive.targetRecall, 0.8);
}

TEST(VariantJson, IntegersAreAcceptedForNumbers) {
  VariantParams v = parseOrDie(R"({"problem": {"heads": 1, "grid": [1, 1, 1]},
                                   "selection": {"density": 1}})");
  EXPECT_DOUBLE_EQ(v.selection.density, 1.0);
}

TEST(VariantJson, RoutingIsOneRouteOrOnePerHead) {
  VariantParams v = parseOrDie(
      R"({"problem": {"heads": 3, "grid": [1, 1, 1]},
          "linear": {"enabled": true, "routing": ["sparse", "linear", "hybrid"]}})");
  EXPECT_EQ(v.linear.routing,
            (std::vector<Route>{Route::Sparse, Route::Linear, Route::Hybrid}));
  v = parseOrDie(R"({"problem": {"heads": 3, "grid": [1, 1, 1]},
                     "linear": {"enabled": true, "routing": "linear"}})");
  EXPECT_EQ(v.linear.routing, (std::vector<Route>{Route::Linear}));
}

/// Variants that exercise every field with a non-default value.
std::vector<std::string> richVariants() {
  return {
      kMinimal,
      R"({"name": "rich-1", "problem": {"batch": 2, "heads": 3, "head_dim": 64,
          "grid": [2, 7, 9], "text_tokens": 5, "text_position": "first",
          "dtype": "fp16", "scale": 0.125},
          "reorder": {"kind": "hilbert2d", "tile": [1, 2, 3]},
          "block": {"q": 64, "k": 16},
          "scoring": {"pool": {"q": 8, "k": 4}, "aggregate": "logit",
                      "levels": [64, 32, 16]},
          "selection": {"rule": "threshold", "density": 0.5, "p": 0.75,
                        "threshold": 0.002, "keep": ["first_frame"]},
          "schedule": {"dense_warmup_steps": 3, "refresh_every": 2,
                       "density_by_step": [[0, 0.1], [7, 0.33333333333333331]]},
          "adaptive": {"target_recall": 0.9, "min_density": 0.05,
                       "max_density": 0.7},
          "tail": {"bins": 64},
          "linear": {"enabled": true, "routing": ["sparse", "hybrid", "linear"]},
          "target": {"arch": "sm_90a"}})",
      R"({"name": "rich.2", "problem": {"heads": 1, "grid": [21, 30, 52]},
          "selection": {"keep": []}, "adaptive": {"enabled": false},
          "schedule": {"density_decay": 0.1, "min_density": 0.1},
          "linear": {"routing": "calibrate"}, "target": {"arch": "sm_80"}})",
  };
}

TEST(VariantJson, WriteThenReadGivesTheSameVariant) {
  for (const std::string &text : richVariants()) {
    VariantParams v = parseOrDie(text);
    std::string written = writeVariantJson(v);
    VariantParams back = parseOrDie(written);
    EXPECT_EQ(back, v) << written;
    // Writing is deterministic, so the text round-trips too.
    EXPECT_EQ(writeVariantJson(back), written);
    EXPECT_EQ(parseOrDie(writeVariantJson(v, -1)), v);
  }
}

TEST(VariantJson, ExamplesParse) {
  for (const char *name :
       {"wan2.1-480p", "wan2.1-720p", "hunyuan-720p", "cogvideox-5b"}) {
    VariantResult r =
        readVariantFile(std::string(SATTN_EXAMPLES_DIR "/") + name + ".json");
    ASSERT_TRUE(r) << name << ": " << r.issue.str();
    EXPECT_EQ(r.variant->name, name);
  }
}

struct Rejection {
  const char *what;
  std::string json;
  std::string field;
  std::string message; // a substring of the message
};

/// `{"problem": {...}, ...}` with `extra` sections and problem fields.
std::string variant(const std::string &problemExtra,
                    const std::string &sections = "") {
  return R"({"problem": {"heads": 2, "grid": [3, 4, 5])" + problemExtra + "}" +
         sections + "}";
}

std::vector<Rejection> rejections() {
  return {
      {"not JSON", "{\"problem\": ", "document", "is not valid JSON"},
      {"garbage", "x!@#$%^", "document", "is not valid JSON"},
      {"empty", "", "document", "is empty"},
      {"whitespace only", "  \n\t ", "document", "is empty"},
      {"not an object", "[1, 2]", "document", "expected an object"},
      {"unknown top-level field", variant("", R"(, "blocks": {})"), "blocks",
       "unknown field (allowed: name, problem, reorder"},
      {"unknown nested field", variant(R"(, "head_dims": 64)"),
       "problem.head_dims", "unknown field (allowed: batch, heads, head_dim"},
      {"unknown pool field", variant("", R"(, "scoring": {"pool": {"r": 1}})"),
       "scoring.pool.r", "unknown field (allowed: q, k)"},
      {"missing problem", R"({"name": "x"})", "problem", "is missing"},
      {"missing grid", R"({"problem": {"heads": 2}})", "problem.grid",
       "is missing"},
      {"wrong type: string for int", variant(R"(, "batch": "1")"),
       "problem.batch", "expected an integer, got a string"},
      {"wrong type: float for int", variant(R"(, "head_dim": 64.5)"),
       "problem.head_dim", "expected an integer, got the number 64.5"},
      {"wrong type: section", variant("", R"(, "block": [128, 32])"), "block",
       "expected an object, got a list"},
      {"wrong type: list", variant("", R"(, "reorder": {"tile": 4})"),
       "reorder.tile", "expected a list, got the integer 4"},
      {"wrong type: bool", variant("", R"(, "linear": {"enabled": 1})"),
       "linear.enabled", "expected true or false"},
      {"density zero", variant("", R"(, "selection": {"density": 0})"),
       "selection.density",
       "value 0 is out of range (allowed: a number in (0, 1])"},
      {"density negative", variant("", R"(, "selection": {"density": -0.5})"),
       "selection.density", "value -0.5 is out of range"},
      {"density above one", variant("", R"(, "selection": {"density": 1.5})"),
       "selection.density", "value 1.5 is out of range"},
      {"head_dim 96", variant(R"(, "head_dim": 96)"), "problem.head_dim",
       "unsupported value 96 (allowed: 64, 128)"},
      {"block.q 256", variant("", R"(, "block": {"q": 256})"), "block.q",
       "unsupported value 256 (allowed: 64, 128)"},
      {"block.k 48", variant("", R"(, "block": {"k": 48})"), "block.k",
       "unsupported value 48 (allowed: 16, 32, 64, 128)"},
      {"pool.q not dividing block.q",
       variant("", R"(, "scoring": {"pool": {"q": 24}})"), "scoring.pool.q",
       "24 does not divide block.q = 128 (allowed: a positive divisor of "
       "block.q)"},
      {"pool.k not dividing block.k",
       variant("", R"(, "block": {"k": 32}, "scoring": {"pool": {"k": 64}})"),
       "scoring.pool.k", "64 does not divide block.k = 32"},
      {"pool.k zero", variant("", R"(, "scoring": {"pool": {"k": 0}})"),
       "scoring.pool.k", "0 does not divide block.k = 128"},
      {"levels not decreasing",
       variant("",
               R"(, "block": {"k": 32}, "scoring": {"levels": [32, 128, 32]})"),
       "scoring.levels", "sizes are not decreasing (32 then 128)"},
      {"levels not ending at block.k",
       variant("", R"(, "block": {"k": 32}, "scoring": {"levels": [128, 64]})"),
       "scoring.levels", "the last level is 64, not block.k = 32"},
      {"levels not multiples",
       variant("",
               R"(, "block": {"k": 32}, "scoring": {"levels": [96, 64, 32]})"),
       "scoring.levels", "96 is not a multiple of 64"},
      {"levels empty", variant("", R"(, "scoring": {"levels": []})"),
       "scoring.levels", "is empty"},
      {"unknown reorder.kind",
       variant("", R"(, "reorder": {"kind": "zorder"})"), "reorder.kind",
       "unknown value \"zorder\" (allowed: identity, tile, hilbert2d, "
       "hilbert3d, hwf, fwh)"},
      {"reorder tile zero",
       variant("", R"(, "reorder": {"kind": "tile", "tile": [4, 0, 4]})"),
       "reorder.tile", "extent 0 is not positive"},
      {"reorder tile negative",
       variant("", R"(, "reorder": {"kind": "tile", "tile": [4, -4, 4]})"),
       "reorder.tile", "extent -4 is not positive"},
      {"reorder tile length",
       variant("", R"(, "reorder": {"kind": "tile", "tile": [4, 4]})"),
       "reorder.tile", "has 2 entries, needs 3"},
      {"tile with a kind that takes none",
       variant("", R"(, "reorder": {"kind": "hwf", "tile": [2, 2, 2]})"),
       "reorder.tile", "kind hwf takes no tile"},
      {"grid extent zero", R"({"problem": {"heads": 2, "grid": [3, 0, 5]}})",
       "problem.grid", "extent 0 is not positive"},
      {"grid extent negative",
       R"({"problem": {"heads": 2, "grid": [-3, 4, 5]}})", "problem.grid",
       "extent -3 is not positive"},
      {"grid too large",
       R"({"problem": {"heads": 2, "grid": [1000, 1000, 1000]}})",
       "problem.grid", "1000000000 video tokens are too many"},
      {"tail.bins negative", variant("", R"(, "tail": {"bins": -1})"),
       "tail.bins",
       "value -1 is out of range (allowed: an integer from 0 to 64)"},
      {"tail.bins above 64", variant("", R"(, "tail": {"bins": 65})"),
       "tail.bins", "value 65 is out of range"},
      {"unknown arch", variant("", R"(, "target": {"arch": "sm_75"})"),
       "target.arch", "unknown value \"sm_75\" (allowed: auto, sm_80, sm_90a)"},
      {"unknown dtype", variant(R"(, "dtype": "fp8")"), "problem.dtype",
       "unknown value \"fp8\" (allowed: bf16, fp16)"},
      {"heads zero", R"({"problem": {"heads": 0, "grid": [1, 1, 1]}})",
       "problem.heads", "value 0 is out of range"},
      {"integer overflow", variant(R"(, "batch": 18446744073709551615)"),
       "problem.batch", "is out of range"},
      {"keep listed twice",
       variant("", R"(, "selection": {"keep": ["text", "text"]})"),
       "selection.keep", "\"text\" is listed twice"},
      {"unknown keep", variant("", R"(, "selection": {"keep": ["corner"]})"),
       "selection.keep[0]", "unknown value \"corner\""},
      {"min_density above density",
       variant(
           "",
           R"(, "selection": {"density": 0.1}, "schedule": {"min_density": 0.2})"),
       "schedule.min_density", "0.2 is above selection.density = 0.1"},
      {"both schedules",
       variant(
           "",
           R"(, "schedule": {"density_decay": 0.1, "density_by_step": [[0, 0.5]]})"),
       "schedule.density_decay", "use one schedule"},
      {"density_by_step steps not increasing",
       variant("",
               R"(, "schedule": {"density_by_step": [[5, 0.5], [5, 0.6]]})"),
       "schedule.density_by_step[1]", "step 5 is negative or not after"},
      {"density_by_step not a pair",
       variant("", R"(, "schedule": {"density_by_step": [[5]]})"),
       "schedule.density_by_step[0]", "expected a [step, density] pair"},
      {"adaptive max below min",
       variant("", R"(, "adaptive": {"min_density": 0.5, "max_density": 0.2})"),
       "adaptive.max_density", "0.2 is below adaptive.min_density = 0.5"},
      {"routing per head count",
       variant("",
               R"(, "linear": {"routing": ["sparse", "linear", "hybrid"]})"),
       "linear.routing", "has 3 entries for 2 heads"},
      {"name unusable as a file name", variant("", R"(, "name": "../x")"),
       "name", "cannot be used as a file name"},
  };
}

TEST(VariantJson, EveryRejectionNamesItsFieldAndTheAllowedValues) {
  for (const Rejection &r : rejections()) {
    VariantResult result = parseVariantJson(r.json);
    ASSERT_FALSE(result) << r.what << ": accepted";
    EXPECT_EQ(result.issue.field, r.field) << r.what;
    EXPECT_NE(result.issue.message.find(r.message), std::string::npos)
        << r.what << ": " << result.issue.message;
    EXPECT_NE(result.issue.message.find("(allowed: "), std::string::npos)
        << r.what << ": " << result.issue.message;
    EXPECT_EQ(result.issue.message.find('\n'), std::string::npos) << r.what;
  }
}

TEST(VariantJson, RandomBytesAreRejectedOnOneLine) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    std::string bytes(1 + rng() % 4096, '\0');
    for (char &c : bytes)
      c = char(rng());
    VariantResult result = parseVariantJson(bytes);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.issue.field, "document");
    EXPECT_EQ(result.issue.message.find('\n'), std::string::npos);
  }
}

TEST(VariantJson, FilesLargerThanAVariantAreRejectedUnread) {
  std::string path = ::testing::TempDir() + "/large-variant.json";
  {
    std::ofstream out(path, std::ios::binary);
    std::string chunk(1 << 16, ' ');
    for (size_t written = 0; written <= kMaxVariantFileBytes;
         written += chunk.size())
      out << chunk;
  }
  VariantResult result = readVariantFile(path);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.issue.field, "document");
  EXPECT_NE(result.issue.message.find("a variant file is at most"),
            std::string::npos);
  std::remove(path.c_str());
  result = readVariantFile(path);
  ASSERT_FALSE(result);
  EXPECT_NE(result.issue.message.find("no such file"), std::string::npos);
}

} // namespace
