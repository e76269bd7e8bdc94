//===- ReferenceAttentionTest.cpp - Sparse, tail and oracle attention -----===//
//
// SPEC §4.5-4.6 and the oracle mode: index-list attention equals a naive
// masked softmax; virtual keys enter the softmax as their logits say; bins
// over identical keys are exact (UTA's Theorem 3.1); the oracle with one key
// per bin is dense attention, with no bins plain top-k; normalization-only
// only grows the denominator; the one-pass sweeps equal the plain
// definitions; bins = 0 is plain block top-k.
//
//===----------------------------------------------------------------------===//

#include "ReferenceTestSupport.h"

#include "compiler/reference/Attention.h"
#include "compiler/reference/Metrics.h"
#include "compiler/reference/Oracle.h"
#include "compiler/reference/Pipeline.h"
#include "compiler/reference/Pool.h"
#include "compiler/reference/Reorder.h"
#include "compiler/reference/Sweep.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

using namespace sattn;
using namespace sattn::ref;
using namespace sattn::ref::testing;

namespace {

/// Random lists: each row keeps a random nonempty subset of groups.
BlockLists randomLists(int64_t heads, int64_t s, int64_t blockQ,
                       int64_t groupSize, uint64_t seed) {
  BlockLists lists = denseLists(1, heads, s, blockQ, groupSize);
  std::mt19937_64 gen(seed);
  for (auto &row : lists.rows) {
    std::vector<int32_t> keep;
    for (int32_t g = 0; g < lists.numGroups; ++g)
      if (gen() % 3 == 0)
        keep.push_back(g);
    if (keep.empty())
      keep.push_back(int32_t(gen() % uint64_t(lists.numGroups)));
    row = keep;
  }
  return lists;
}

/// Random scores for assigning bins.
Tensor randomScores(const BlockLists &lists, uint64_t seed) {
  return randomTensor({lists.batch, lists.heads, lists.numQueryBlocks,
                       lists.numGroups},
                      seed);
}

TEST(ReferenceAttention, SparseEqualsMaskedSoftmaxWithVirtualKeys) {
  for (const Shape &shape : smallShapes())
    for (int64_t bins : {0, 1, 3}) {
      SCOPED_TRACE(shape.str() + " bins " + std::to_string(bins));
      int64_t s = shape.seqLen(), d = 5;
      Tensor q = randomTensor({1, 2, s, d}, 1, 2), k = randomTensor({1, 2, s, d}, 2, 2),
             v = randomTensor({1, 2, s, d}, 3);
      BlockLists lists = randomLists(2, s, 16, 8, 4);
      TailMembership membership =
          assignTailBins(lists, randomScores(lists, 5), bins);
      TailBins tail = computeTailBins(k, v, lists, membership);
      Tensor lse;
      Tensor out = sparseAttention(q, k, v, lists, bins ? &tail : nullptr, 0.6, &lse);
      for (int64_t h = 0; h < 2; ++h)
        for (int64_t t = 0; t < s; ++t) {
          int64_t row = lists.rowIndex(0, h, t / 16);
          const auto &kept = lists.rows[size_t(row)];
          auto keep = [&](int64_t j) {
            return std::binary_search(kept.begin(), kept.end(), int32_t(j / 8));
          };
          std::vector<std::pair<double, std::vector<double>>> extra;
          for (int64_t b = 0; b < bins; ++b) {
            const auto &groups = membership.bin(row, b);
            if (groups.empty())
              continue;
            // The bin restated: mean key and value over its tokens.
            std::vector<double> meanK(size_t(d), 0.0), meanV(size_t(d), 0.0);
            int64_t n = 0;
            for (int32_t g : groups)
              for (int64_t j = g * 8; j < std::min(s, int64_t(g + 1) * 8); ++j, ++n)
                for (int64_t e = 0; e < d; ++e) {
                  meanK[size_t(e)] += k(0, h, j, e);
                  meanV[size_t(e)] += v(0, h, j, e);
                }
            double z = 0;
            for (int64_t e = 0; e < d; ++e) {
              meanK[size_t(e)] /= double(n);
              meanV[size_t(e)] /= double(n);
              z += q(0, h, t, e) * meanK[size_t(e)];
            }
            extra.push_back({z * 0.6 + std::log(double(n)), meanV});
          }
          double naiveLse;
          std::vector<double> expected =
              naiveAttention(q, k, v, 0, h, t, 0.6, keep, extra, &naiveLse);
          for (int64_t e = 0; e < d; ++e)
            ASSERT_NEAR(out(0, h, t, e), expected[size_t(e)], 1e-12);
          ASSERT_NEAR(lse(0, h, t), naiveLse, 1e-12);
        }
    }
}

TEST(ReferenceAttention, AddingVirtualKeysLaterIsTheSame) {
  Shape shape{{5, 9, 11}, 13, TextPosition::Last};
  int64_t s = shape.seqLen(), d = 4;
  Tensor q = randomTensor({1, 2, s, d}, 1, 2), k = randomTensor({1, 2, s, d}, 2, 2),
         v = randomTensor({1, 2, s, d}, 3);
  BlockLists lists = randomLists(2, s, 64, 16, 7);
  TailBins tail =
      computeTailBins(k, v, lists, assignTailBins(lists, randomScores(lists, 8), 4));
  Tensor keptLse, fullLse, mergedLse;
  Tensor kept = sparseAttention(q, k, v, lists, nullptr, 0.5, &keptLse);
  Tensor full = sparseAttention(q, k, v, lists, &tail, 0.5, &fullLse);
  Tensor merged =
      addVirtualKeys(kept, keptLse, q, lists, tail, 0.5, TailMode::Full, &mergedLse);
  EXPECT_LT(maxAbsDiff(full, merged), 1e-12);
  EXPECT_LT(maxAbsDiff(fullLse, mergedLse), 1e-12);
  // Normalization-only: the kept keys' output scaled by their share of the
  // (kept + tail) mass.
  Tensor normOnly =
      addVirtualKeys(kept, keptLse, q, lists, tail, 0.5, TailMode::NormalizationOnly);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t t = 0; t < s; ++t)
      for (int64_t e = 0; e < d; ++e)
        ASSERT_NEAR(normOnly(0, h, t, e),
                    kept(0, h, t, e) * std::exp(keptLse(0, h, t) - fullLse(0, h, t)),
                    1e-12);
}

TEST(ReferenceAttention, BinsOfIdenticalKeysAreExact) {
  // UTA's Theorem 3.1: when every key of a bin has the same logit, the bin
  // replaces its keys exactly. Make each group's keys identical and give
  // every unselected group its own bin.
  for (const Shape &shape : smallShapes()) {
    SCOPED_TRACE(shape.str());
    int64_t s = shape.seqLen(), d = 4, group = 8;
    Tensor q = randomTensor({1, 1, s, d}, 1, 2), k = randomTensor({1, 1, s, d}, 2, 2),
           v = randomTensor({1, 1, s, d}, 3);
    for (int64_t j = 0; j < s; ++j)
      for (int64_t e = 0; e < d; ++e)
        k(0, 0, j, e) = k(0, 0, j / group * group, e);
    BlockLists lists = randomLists(1, s, 16, group, 9);
    int64_t bins = lists.numGroups; // at least one group per bin
    TailBins tail =
        computeTailBins(k, v, lists, assignTailBins(lists, randomScores(lists, 1), bins));
    EXPECT_LT(maxAbsDiff(sparseAttention(q, k, v, lists, &tail, 0.7),
                         denseAttention(q, k, v, 0.7)),
              1e-12);
  }
}

/// q with a sample of the query rows of `full` (all when small): the oracle
/// and dense attention take any number of queries.
Tensor sampleQueries(const Tensor &full, int64_t count) {
  int64_t s = full.dim(2), d = full.dim(3);
  if (count >= s)
    return full;
  Tensor q({full.dim(0), full.dim(1), count, d});
  for (int64_t h = 0; h < full.dim(1); ++h)
    for (int64_t i = 0; i < count; ++i)
      for (int64_t e = 0; e < d; ++e)
        q(0, h, i, e) = full(0, h, i * s / count, e);
  return q;
}

TEST(ReferenceAttention, OracleWithOneKeyPerBinIsDense) {
  for (const Shape &shape : allShapes())
    for (double kept : {0.01, 0.1, 0.5}) {
      SCOPED_TRACE(shape.str() + " kept " + std::to_string(kept));
      int64_t s = shape.seqLen(), d = shape.big() ? 2 : 4;
      Tensor q = sampleQueries(randomTensor({1, 1, s, d}, 1, 2), 8);
      Tensor k = randomTensor({1, 1, s, d}, 2, 2), v = randomTensor({1, 1, s, d}, 3);
      OracleConfig config{kept, s - oracleKeptKeys(kept, s), TailMode::Full};
      EXPECT_LT(maxAbsDiff(oracleAttention(q, k, v, 0.8, config),
                           denseAttention(q, k, v, 0.8)),
                1e-12);
      config.kept = 1.0; // nothing dropped
      config.bins = 3;
      EXPECT_LT(maxAbsDiff(oracleAttention(q, k, v, 0.8, config),
                           denseAttention(q, k, v, 0.8)),
                1e-12);
    }
}

TEST(ReferenceAttention, OracleWithoutBinsIsPlainTopK) {
  for (const Shape &shape : allShapes()) {
    SCOPED_TRACE(shape.str());
    int64_t s = shape.seqLen(), d = shape.big() ? 2 : 4;
    Tensor q = sampleQueries(randomTensor({1, 1, s, d}, 4, 2), 6);
    Tensor k = randomTensor({1, 1, s, d}, 5, 2), v = randomTensor({1, 1, s, d}, 6);
    // Duplicate keys make ties, which go to the lower index.
    for (int64_t j = 1; j < s; j += 3)
      for (int64_t e = 0; e < d; ++e)
        k(0, 0, j, e) = k(0, 0, j - 1, e);
    Tensor keptLse;
    Tensor out = oracleAttention(q, k, v, 0.9, {0.2, 0, TailMode::Full}, &keptLse);
    int64_t keep = oracleKeptKeys(0.2, s);
    for (int64_t t = 0; t < q.dim(2); ++t) {
      std::vector<double> z(s, 0.0);
      for (int64_t j = 0; j < s; ++j)
        for (int64_t e = 0; e < d; ++e)
          z[size_t(j)] += q(0, 0, t, e) * k(0, 0, j, e);
      // The keep-th largest logit and how many keys above it.
      std::vector<double> sorted = z;
      std::sort(sorted.begin(), sorted.end(), std::greater<double>());
      double cut = sorted[size_t(keep - 1)];
      int64_t above = std::count_if(z.begin(), z.end(), [&](double x) { return x > cut; });
      auto inTop = [&](int64_t j) {
        if (z[size_t(j)] > cut)
          return true;
        // Ties at the cut: the lowest indices fill the remaining slots.
        if (z[size_t(j)] < cut)
          return false;
        int64_t rank = 0;
        for (int64_t i = 0; i < j; ++i)
          rank += z[size_t(i)] == cut;
        return rank < keep - above;
      };
      double lse;
      std::vector<double> expected = naiveAttention(q, k, v, 0, 0, t, 0.9, inTop, {}, &lse);
      for (int64_t e = 0; e < d; ++e)
        EXPECT_NEAR(out(0, 0, t, e), expected[size_t(e)], 1e-12);
      EXPECT_NEAR(keptLse(0, 0, t), lse, 1e-12);
    }
  }
}

TEST(ReferenceAttention, OracleSweepMatchesTheDefinition) {
  Shape shape{{3, 12, 10}, 7, TextPosition::First};
  int64_t s = shape.seqLen(), d = 6;
  Tensor q = randomTensor({2, 2, s, d}, 1, 3), k = randomTensor({2, 2, s, d}, 2, 3),
         v = randomTensor({2, 2, s, d}, 3);
  Tensor denseLse;
  Tensor dense = denseAttention(q, k, v, 0.4, &denseLse);
  std::vector<double> kept = {0.05, 0.3};
  std::vector<int64_t> bins = {0, 1, 5, 1000};
  for (TailMode mode : {TailMode::Full, TailMode::NormalizationOnly}) {
    std::vector<SweepPoint> points = sweepOracle(q, k, v, 0.4, kept, bins, mode);
    ASSERT_EQ(points.size(), kept.size() * bins.size());
    size_t i = 0;
    for (double fraction : kept)
      for (int64_t b : bins) {
        const SweepPoint &point = points[i++];
        Tensor keptLse;
        Tensor out = oracleAttention(q, k, v, 0.4, {fraction, b, mode}, &keptLse);
        EXPECT_EQ(point.kept, fraction);
        EXPECT_EQ(point.bins, b);
        EXPECT_NEAR(point.mse, meanSquaredError(out, dense),
                    1e-9 * meanSquaredError(out, dense) + 1e-24);
        EXPECT_NEAR(point.relL2, relativeL2(out, dense), 1e-9);
        EXPECT_NEAR(point.recall, meanRecall(keptLse, denseLse), 1e-12);
        EXPECT_DOUBLE_EQ(point.density,
                         double(oracleKeptKeys(fraction, s)) / double(s));
      }
  }
}

VariantParams smallVariant(const Shape &shape, int64_t heads, int64_t d) {
  VariantParams v;
  v.problem = problemFor(shape, heads, d);
  v.reorder = {ReorderKind::Hilbert3D, {1, 1, 1}};
  v.block = {64, 16};
  v.scoring.levels = {64, 16};
  return v;
}

TEST(ReferenceAttention, BlockSweepMatchesRunVariant) {
  Shape shape{{5, 9, 11}, 13, TextPosition::Last};
  VariantParams v = smallVariant(shape, 2, 4);
  int64_t s = shape.seqLen();
  Tensor q = randomTensor({1, 2, s, 4}, 1, 3), k = randomTensor({1, 2, s, 4}, 2, 3),
         val = randomTensor({1, 2, s, 4}, 3);
  Tensor denseLse;
  Tensor dense = denseAttention(q, k, val, v.problem.softmaxScale(), &denseLse);
  std::vector<SweepPoint> points =
      sweepBlocks(v, q, k, val, {0.1, 0.4}, {0, 2, 8}, TailMode::Full);
  size_t i = 0;
  for (double density : {0.1, 0.4})
    for (int64_t bins : {0, 2, 8}) {
      VariantParams withBins = v;
      withBins.tail.bins = bins;
      VariantOutput out = runVariant(withBins, q, k, val, density);
      const SweepPoint &point = points[i++];
      EXPECT_NEAR(point.mse, meanSquaredError(out.output, dense), 1e-12);
      EXPECT_NEAR(point.relL2, relativeL2(out.output, dense), 1e-12);
      EXPECT_DOUBLE_EQ(point.density, listDensity(out.mask->lists()));
      std::vector<int64_t> order = out.mask->order;
      Tensor keptLse = keptLogSumExp(reorder(q, order), reorder(k, order),
                                     out.mask->lists(), v.problem.softmaxScale());
      EXPECT_NEAR(point.recall, meanRecall(keptLse, reorder(denseLse, order)), 1e-12);
    }
}

TEST(ReferenceAttention, NoBinsIsPlainBlockTopK) {
  for (const Shape &shape : smallShapes()) {
    SCOPED_TRACE(shape.str());
    VariantParams v = smallVariant(shape, 2, 4);
    v.tail.bins = 0;
    int64_t s = shape.seqLen();
    Tensor q = randomTensor({1, 2, s, 4}, 1, 3), k = randomTensor({1, 2, s, 4}, 2, 3),
           val = randomTensor({1, 2, s, 4}, 3);
    VariantOutput out = runVariant(v, q, k, val, 0.2);
    const BlockLists &lists = out.mask->lists();
    const std::vector<int64_t> &order = out.mask->order;
    std::vector<int64_t> position(order.size());
    for (size_t i = 0; i < order.size(); ++i)
      position[size_t(order[i])] = int64_t(i);
    // The naive mask in original order: query t sees key j when j's group
    // (in reordered positions) is in the list of t's block.
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t t = 0; t < s; ++t) {
        const auto &kept = lists.row(0, h, position[size_t(t)] / v.block.q);
        auto keep = [&](int64_t j) {
          return std::binary_search(kept.begin(), kept.end(),
                                    int32_t(position[size_t(j)] / v.block.k));
        };
        std::vector<double> expected =
            naiveAttention(q, k, val, 0, h, t, v.problem.softmaxScale(), keep);
        for (int64_t e = 0; e < 4; ++e)
          ASSERT_NEAR(out.output(0, h, t, e), expected[size_t(e)], 1e-12);
      }
  }
}

TEST(ReferenceAttention, MetricsAgainstDense) {
  Tensor dense = randomTensor({1, 2, 10, 3}, 1);
  Tensor same = dense, shifted = dense;
  for (double &x : shifted.data)
    x += 0.5;
  EXPECT_EQ(meanSquaredError(same, dense), 0.0);
  EXPECT_NEAR(meanSquaredError(shifted, dense), 0.25, 1e-15);
  double norm = 0;
  for (double x : dense.data)
    norm += x * x;
  EXPECT_NEAR(relativeL2(shifted, dense), std::sqrt(0.25 * 60 / norm), 1e-12);
  Tensor lse = randomTensor({1, 2, 10}, 2), half = lse;
  for (double &x : half.data)
    x -= std::log(2.0);
  EXPECT_NEAR(meanRecall(half, lse), 0.5, 1e-15);
  EXPECT_NEAR(meanRecall(lse, lse), 1.0, 1e-15);
}

TEST(ReferenceAttention, ListDensityCountsQueryKeyPairs) {
  // S = 100, blocks of 64 (64 + 36 queries), groups of 16 (the last has 4).
  BlockLists lists = denseLists(1, 1, 100, 64, 16);
  lists.rows = {{0, 6}, {1}};
  double kept = 64.0 * (16 + 4) + 36.0 * 16;
  EXPECT_DOUBLE_EQ(listDensity(lists), kept / 10000.0);
  EXPECT_EQ(headDensities(lists).size(), 1u);
}

} // namespace
