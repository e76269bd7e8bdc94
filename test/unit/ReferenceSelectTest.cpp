//===- ReferenceSelectTest.cpp - Scores, levels and selection rules -------===//
//
// SPEC §4.3-4.4 on every shape: each rule's lists respect the density (or p,
// or the threshold), contain the forced groups, respect the hierarchy (a
// fine group only under a kept parent), keep the best-scoring candidates
// with ties to the lower index, and carry the kept share as estimated
// recall; non-candidates inherit their parent's score. Forced groups and
// dense text rows are restated here from the token layout, independently of
// ForcedGroups.
//
//===----------------------------------------------------------------------===//

#include "ReferenceTestSupport.h"

#include "compiler/reference/Attention.h"
#include "compiler/reference/Pipeline.h"
#include "compiler/reference/Pool.h"
#include "compiler/reference/Reorder.h"
#include "compiler/reference/Score.h"
#include "compiler/reference/Select.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

using namespace sattn;
using namespace sattn::ref;
using namespace sattn::ref::testing;

namespace {

struct Config {
  std::vector<int64_t> levels;
  int64_t blockQ;
  ScoreAggregate aggregate;
  std::vector<KeepGroup> keep;
  ReorderParams reorder;
};

VariantParams variantFor(const Shape &shape, const Config &c, int64_t heads,
                         int64_t headDim) {
  VariantParams v;
  v.problem = problemFor(shape, heads, headDim);
  v.reorder = c.reorder;
  v.block.q = c.blockQ;
  v.block.k = c.levels.back();
  v.scoring.poolQ = 16;
  v.scoring.poolK = std::min<int64_t>(16, c.levels.back());
  v.scoring.aggregate = c.aggregate;
  v.scoring.levels = c.levels;
  v.selection.keep = c.keep;
  return v;
}

std::vector<Config> configs(bool big) {
  std::vector<Config> out;
  std::vector<std::vector<int64_t>> levelSets =
      big ? std::vector<std::vector<int64_t>>{{128, 32}}
          : std::vector<std::vector<int64_t>>{{16}, {64, 16}, {128, 32},
                                              {128, 64, 16}};
  std::vector<std::vector<KeepGroup>> keeps =
      big ? std::vector<std::vector<KeepGroup>>{{KeepGroup::Text,
                                                 KeepGroup::Diagonal,
                                                 KeepGroup::FirstFrame}}
          : std::vector<std::vector<KeepGroup>>{
                {},
                {KeepGroup::Text, KeepGroup::Diagonal},
                {KeepGroup::FirstFrame},
                {KeepGroup::Text, KeepGroup::Diagonal, KeepGroup::FirstFrame}};
  for (const auto &levels : levelSets)
    for (ScoreAggregate aggregate :
         {ScoreAggregate::SoftmaxSum, ScoreAggregate::Logit})
      for (const auto &keep : keeps)
        out.push_back({levels, levels.size() % 2 ? int64_t(64) : int64_t(128),
                       aggregate, keep,
                       big ? ReorderParams{ReorderKind::Hilbert3D, {1, 1, 1}}
                           : ReorderParams{ReorderKind::Hilbert2D, {1, 2, 2}}});
  return out;
}

/// The token layout's forced groups, restated: does group g of `size`
/// tokens hold a text token, a frame-0 token, or overlap block i?
struct Layout {
  std::vector<int32_t> frames;
  int64_t s, blockQ;
  bool has(int64_t g, int64_t size, bool wantText) const {
    for (int64_t p = g * size; p < std::min(s, (g + 1) * size); ++p)
      if (wantText ? frames[size_t(p)] < 0 : frames[size_t(p)] == 0)
        return true;
    return false;
  }
  bool textQuery(int64_t i) const {
    for (int64_t p = i * blockQ; p < std::min(s, (i + 1) * blockQ); ++p)
      if (frames[size_t(p)] < 0)
        return true;
    return false;
  }
  bool forced(const std::vector<KeepGroup> &keep, int64_t i, int64_t g,
              int64_t size) const {
    for (KeepGroup k : keep) {
      if (k == KeepGroup::Text && has(g, size, true))
        return true;
      if (k == KeepGroup::FirstFrame && has(g, size, false))
        return true;
      if (k == KeepGroup::Diagonal) {
        int64_t lo = i * blockQ, hi = std::min(s, (i + 1) * blockQ);
        if (g * size < hi && std::min(s, (g + 1) * size) > lo)
          return true;
      }
    }
    return false;
  }
};

/// The checks every rule shares, for every level of `sel`; `expectedCount`
/// (if set) says how many groups a non-dense row keeps given its forced
/// and candidate counts and the level.
void checkSelection(
    const VariantParams &v, const Layout &layout,
    const std::vector<Tensor> &real, const BlockSelection &sel,
    const std::function<void(const std::vector<double> &shares,
                             const std::vector<int32_t> &kept,
                             const std::vector<uint8_t> &forced,
                             const std::vector<uint8_t> &candidate,
                             const std::vector<double> &scores, size_t level)>
        &ruleCheck) {
  std::vector<int64_t> sizes = v.levels();
  bool keepText = std::count(v.selection.keep.begin(), v.selection.keep.end(),
                             KeepGroup::Text) > 0;
  for (size_t l = 0; l < sizes.size(); ++l) {
    const LevelSelection &level = sel.levels[l];
    const BlockLists &lists = level.lists;
    int64_t g = lists.numGroups;
    ASSERT_EQ(g, numTiles(layout.s, sizes[l]));
    for (int64_t row = 0; row < lists.numRows(); ++row) {
      int64_t i = row % lists.numQueryBlocks;
      const std::vector<int32_t> &kept = lists.rows[size_t(row)];
      ASSERT_TRUE(std::is_sorted(kept.begin(), kept.end()));
      ASSERT_TRUE(std::adjacent_find(kept.begin(), kept.end()) == kept.end());
      ASSERT_FALSE(kept.empty());
      std::vector<uint8_t> isKept(size_t(g), 0), forced(size_t(g), 0),
          candidate(size_t(g), 1);
      for (int32_t j : kept)
        isKept[size_t(j)] = 1;
      // Scores: real for candidates, inherited otherwise.
      const double *scores = &level.scores.data[size_t(row * g)];
      if (l > 0) {
        const BlockLists &parent = sel.levels[l - 1].lists;
        int64_t ratio = sizes[l - 1] / sizes[l];
        std::vector<uint8_t> parentKept(size_t(parent.numGroups), 0);
        for (int32_t p : parent.rows[size_t(row)])
          parentKept[size_t(p)] = 1;
        for (int64_t j = 0; j < g; ++j) {
          candidate[size_t(j)] = parentKept[size_t(j / ratio)];
          double expected =
              candidate[size_t(j)]
                  ? real[l].data[size_t(row * g + j)]
                  : inheritedScore(
                        sel.levels[l - 1]
                            .scores.data[size_t(row * parent.numGroups + j / ratio)],
                        ratio, v.scoring.aggregate);
          ASSERT_DOUBLE_EQ(scores[j], expected) << "level " << l << " group " << j;
          if (isKept[size_t(j)]) {
            ASSERT_TRUE(candidate[size_t(j)])
                << "level " << l << " keeps group " << j
                << " whose parent was not kept";
          }
        }
      } else {
        for (int64_t j = 0; j < g; ++j)
          ASSERT_DOUBLE_EQ(scores[j], real[0].data[size_t(row * g + j)]);
      }
      std::vector<double> shares =
          normalizeRow(scores, g, v.scoring.aggregate);
      double share = 0;
      for (int32_t j : kept)
        share += shares[size_t(j)];
      if (keepText && layout.textQuery(i)) {
        ASSERT_EQ(int64_t(kept.size()), g) << "a text query block is dense";
        EXPECT_DOUBLE_EQ(lists.recall[size_t(row)], 1.0);
        continue;
      }
      EXPECT_NEAR(lists.recall[size_t(row)], share, 1e-12);
      for (int64_t j = 0; j < g; ++j) {
        forced[size_t(j)] = layout.forced(v.selection.keep, i, j, sizes[l]);
        if (forced[size_t(j)]) {
          ASSERT_TRUE(isKept[size_t(j)]) << "forced group " << j << " dropped";
        }
      }
      // The kept non-forced groups are the best candidates, ties to the
      // lower index.
      for (int32_t a : kept) {
        if (forced[size_t(a)])
          continue;
        for (int64_t b = 0; b < g; ++b) {
          if (candidate[size_t(b)] && !isKept[size_t(b)] && !forced[size_t(b)]) {
            ASSERT_TRUE(scores[a] > scores[b] ||
                        (scores[a] == scores[b] && a < b))
                << "kept " << a << " over " << b;
          }
        }
      }
      ruleCheck(shares, kept, forced, candidate,
                std::vector<double>(scores, scores + g), l);
    }
  }
}

void runRule(const SelectionParams &selection, double density,
             const std::function<void(const VariantParams &,
                                      const std::vector<double> &,
                                      const std::vector<int32_t> &,
                                      const std::vector<uint8_t> &,
                                      const std::vector<uint8_t> &,
                                      const std::vector<double> &, size_t)>
                 &ruleCheck) {
  for (const Shape &shape : allShapes())
    for (const Config &c : configs(shape.big())) {
      VariantParams v = variantFor(shape, c, shape.big() ? 1 : 2,
                                   shape.big() ? 4 : 6);
      v.selection.rule = selection.rule;
      v.selection.p = selection.p;
      v.selection.threshold = selection.threshold;
      v.selection.density = density;
      SCOPED_TRACE(shape.str() + " levels " + std::to_string(c.levels.size()) +
                   " " + toString(c.aggregate) + " keep " +
                   std::to_string(c.keep.size()));
      std::vector<int64_t> order = tokenOrder(v.problem, v.reorder);
      int64_t s = v.problem.seqLen();
      Tensor q = reorder(randomTensor({1, v.problem.heads, s, v.problem.headDim}, 5, 2), order);
      Tensor k = reorder(randomTensor({1, v.problem.heads, s, v.problem.headDim}, 6, 2), order);
      Layout layout{framesOf(v.problem, order), s, v.block.q};
      std::vector<Tensor> real = scoreLevels(v, q, k);
      BlockSelection sel = selectBlocks(
          v, layout.frames, real,
          std::vector<double>(size_t(v.problem.heads), density));
      checkSelection(v, layout, real, sel,
                     [&](const std::vector<double> &shares,
                         const std::vector<int32_t> &kept,
                         const std::vector<uint8_t> &forced,
                         const std::vector<uint8_t> &candidate,
                         const std::vector<double> &scores, size_t level) {
                       ruleCheck(v, shares, kept, forced, candidate, scores,
                                 level);
                     });
      if (::testing::Test::HasFatalFailure())
        return;
    }
}

TEST(ReferenceSelect, TopkKeepsTheBudgetForcedGroupsAndHierarchy) {
  for (double density : {0.05, 0.3, 1.0}) {
    SCOPED_TRACE("density " + std::to_string(density));
    SelectionParams topk;
    runRule(topk, density,
            [&](const VariantParams &v, const std::vector<double> &,
                const std::vector<int32_t> &kept,
                const std::vector<uint8_t> &forced,
                const std::vector<uint8_t> &candidate,
                const std::vector<double> &, size_t level) {
              int64_t g = int64_t(forced.size());
              int64_t numForced = std::count(forced.begin(), forced.end(), 1);
              int64_t available = 0;
              for (int64_t j = 0; j < g; ++j)
                available += forced[size_t(j)] || candidate[size_t(j)];
              bool finalLevel = level + 1 == v.levels().size();
              int64_t budget =
                  finalLevel
                      ? std::max<int64_t>(1, int64_t(std::floor(density * double(g) + 1e-9)))
                      : std::min<int64_t>(g, std::max<int64_t>(1, int64_t(std::ceil(density * double(g) - 1e-9))));
              EXPECT_EQ(int64_t(kept.size()),
                        std::min(available, std::max(budget, numForced)));
            });
  }
}

TEST(ReferenceSelect, TopPKeepsTheSmallestPrefixReachingP) {
  for (double p : {0.5, 0.9}) {
    SelectionParams topp;
    topp.rule = SelectionRule::TopP;
    topp.p = p;
    runRule(topp, 0.3,
            [&](const VariantParams &, const std::vector<double> &shares,
                const std::vector<int32_t> &kept,
                const std::vector<uint8_t> &forced,
                const std::vector<uint8_t> &candidate,
                const std::vector<double> &scores, size_t) {
              double share = 0, weakest = INFINITY;
              bool allCandidates = true;
              for (int32_t j : kept) {
                share += shares[size_t(j)];
                if (!forced[size_t(j)])
                  weakest = std::min(weakest, shares[size_t(j)]);
              }
              for (size_t j = 0; j < forced.size(); ++j)
                if (candidate[j] && !forced[j] &&
                    !std::binary_search(kept.begin(), kept.end(), int32_t(j)))
                  allCandidates = false;
              EXPECT_TRUE(share >= p || allCandidates);
              if (weakest < INFINITY) { // dropping the last one falls short
                EXPECT_LT(share - weakest, p + 1e-12);
              }
            });
  }
}

TEST(ReferenceSelect, ThresholdKeepsEveryCandidateAboveIt) {
  for (double threshold : {0.01, 0.05}) {
    SelectionParams rule;
    rule.rule = SelectionRule::Threshold;
    rule.threshold = threshold;
    runRule(rule, 0.3,
            [&](const VariantParams &, const std::vector<double> &shares,
                const std::vector<int32_t> &kept,
                const std::vector<uint8_t> &forced,
                const std::vector<uint8_t> &candidate,
                const std::vector<double> &scores, size_t) {
              int64_t best = -1;
              for (size_t j = 0; j < forced.size(); ++j)
                if (candidate[j] && !forced[j] &&
                    (best < 0 || scores[j] > scores[size_t(best)]))
                  best = int64_t(j);
              for (size_t j = 0; j < forced.size(); ++j) {
                bool isKept =
                    std::binary_search(kept.begin(), kept.end(), int32_t(j));
                if (forced[j] || !candidate[j])
                  continue;
                EXPECT_EQ(isKept, shares[j] > threshold || int64_t(j) == best)
                    << "group " << j << " share " << shares[j];
              }
            });
  }
}

TEST(ReferenceSelect, CountsRoundWithTolerance) {
  EXPECT_EQ(topkCount(0.29, 100), 29); // 0.29 * 100 = 28.999999999999996
  EXPECT_EQ(topkCount(0.3, 10), 3);
  EXPECT_EQ(topkCount(0.01, 10), 1);
  EXPECT_EQ(topkCount(1.0, 7), 7);
  EXPECT_EQ(coarseCount(0.3, 10), 3);
  EXPECT_EQ(coarseCount(0.31, 10), 4);
  EXPECT_EQ(coarseCount(0.001, 10), 1);
  EXPECT_EQ(coarseCount(1.0, 7), 7);
}

TEST(ReferenceSelect, TiesBreakTowardTheLowerGroupIndex) {
  // Zero queries make every full group's score equal.
  for (ScoreAggregate aggregate :
       {ScoreAggregate::SoftmaxSum, ScoreAggregate::Logit}) {
    VariantParams v;
    v.problem = problemFor({{2, 8, 16}, 0, TextPosition::Last}, 1, 4);
    v.block = {64, 16};
    v.scoring.aggregate = aggregate;
    v.scoring.levels = {64, 16};
    v.selection.keep = {};
    v.selection.density = 0.25;
    int64_t s = v.problem.seqLen();
    Tensor q({1, 1, s, 4}), k = randomTensor({1, 1, s, 4}, 3);
    std::vector<int32_t> frames = framesOf(v.problem, identityOrder(s));
    BlockSelection sel =
        selectBlocks(v, frames, scoreLevels(v, q, k), {0.25});
    for (const auto &row : sel.lists().rows)
      EXPECT_EQ(row, (std::vector<int32_t>{0, 1, 2, 3}));
  }
}

TEST(ReferenceSelect, DensityOneIsDenseAttention) {
  for (const Shape &shape : allShapes())
    for (const Config &c : configs(shape.big())) {
      SCOPED_TRACE(shape.str());
      VariantParams v = variantFor(shape, c, 1, 4);
      v.selection.density = 1.0;
      v.tail.bins = 4; // no group is left for a bin
      int64_t s = v.problem.seqLen();
      Tensor q = randomTensor({1, 1, s, 4}, 7, 2), k = randomTensor({1, 1, s, 4}, 8, 2),
             val = randomTensor({1, 1, s, 4}, 9);
      if (shape.big()) {
        std::vector<int64_t> order = tokenOrder(v.problem, v.reorder);
        Mask mask = computeMask(v, reorder(q, order), reorder(k, order), 1.0);
        for (const auto &row : mask.lists().rows)
          ASSERT_EQ(int64_t(row.size()), mask.lists().numGroups);
        continue;
      }
      VariantOutput out = runVariant(v, q, k, val);
      EXPECT_LT(maxAbsDiff(out.output, denseAttention(q, k, val, v.problem.softmaxScale())),
                1e-12);
    }
}

TEST(ReferenceSelect, SoftmaxSumRowsSumToTheQueryTileCount) {
  Shape shape{{3, 12, 10}, 7, TextPosition::First};
  ProblemParams p = problemFor(shape, 2, 6);
  int64_t s = p.seqLen();
  Tensor q = randomTensor({1, 2, s, 6}, 1, 3), k = randomTensor({1, 2, s, 6}, 2, 3);
  std::vector<Tensor> scores = scoreSoftmaxSum(q, k, 8, 16, 64, {64, 16}, 0.4);
  for (const Tensor &level : scores)
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < level.dim(2); ++i) {
        double sum = 0;
        for (int64_t j = 0; j < level.dim(3); ++j)
          sum += level(0, h, i, j);
        int64_t tiles = numTiles(std::min(s, (i + 1) * 64) - i * 64, 8);
        EXPECT_NEAR(sum, double(tiles), 1e-12);
      }
}

TEST(ReferenceSelect, LogitScoreIsTheLogOfCountTimesExpMeanLogit) {
  Shape shape{{1, 7, 3}, 0, TextPosition::Last};
  ProblemParams p = problemFor(shape, 1, 5);
  Tensor q = randomTensor({1, 1, 21, 5}, 3), k = randomTensor({1, 1, 21, 5}, 4);
  Tensor scores = scoreLogit(q, k, 8, 16, 0.5);
  // Block 2 holds queries 16..20; group 1 holds keys 16..20 (partial).
  double meanLogit = 0;
  for (int64_t a = 16; a < 21; ++a)
    for (int64_t c = 16; c < 21; ++c)
      for (int64_t e = 0; e < 5; ++e)
        meanLogit += q(0, 0, a, e) * k(0, 0, c, e) * 0.5 / 25;
  EXPECT_NEAR(scores(0, 0, 2, 1), meanLogit + std::log(5.0), 1e-12);
}

} // namespace
