//===- Select.cpp - Which key groups each query block keeps ---------------===//

#include "compiler/reference/Select.h"
#include "compiler/reference/Parallel.h"
#include "compiler/reference/Pool.h"
#include "compiler/reference/Score.h"

#include <algorithm>
#include <cmath>

namespace sattn::ref {

static constexpr double kCountTolerance = 1e-9;

int64_t topkCount(double density, int64_t groups) {
  int64_t k = int64_t(std::floor(density * double(groups) + kCountTolerance));
  return std::min(groups, std::max<int64_t>(1, k));
}

int64_t coarseCount(double density, int64_t groups) {
  int64_t k = int64_t(std::ceil(density * double(groups) - kCountTolerance));
  return std::min(groups, std::max<int64_t>(1, k));
}

ForcedGroups::ForcedGroups(const VariantParams &variant,
                           const std::vector<int32_t> &frames,
                           int64_t groupSizeIn)
    : seqLen(int64_t(frames.size())), blockQ(variant.block.q),
      groupSize(groupSizeIn) {
  for (KeepGroup keep : variant.selection.keep) {
    keepText |= keep == KeepGroup::Text;
    keepDiagonal |= keep == KeepGroup::Diagonal;
    keepFirstFrame |= keep == KeepGroup::FirstFrame;
  }
  groupText.assign(size_t(numTiles(seqLen, groupSize)), 0);
  groupFirstFrame.assign(groupText.size(), 0);
  blockText.assign(size_t(numTiles(seqLen, blockQ)), 0);
  for (int64_t p = 0; p < seqLen; ++p) {
    groupText[p / groupSize] |= frames[p] < 0;
    groupFirstFrame[p / groupSize] |= frames[p] == 0;
    blockText[p / blockQ] |= frames[p] < 0;
  }
}

bool ForcedGroups::denseRow(int64_t block) const {
  return keepText && blockText[block];
}

bool ForcedGroups::forced(int64_t block, int64_t group) const {
  if (keepText && groupText[group])
    return true;
  if (keepFirstFrame && groupFirstFrame[group])
    return true;
  if (keepDiagonal) {
    int64_t first = block * blockQ;
    int64_t last = std::min(seqLen, first + blockQ) - 1;
    if (group >= first / groupSize && group <= last / groupSize)
      return true;
  }
  return false;
}

RowRanking rankRow(const double *scores, int64_t numGroups,
                   ScoreAggregate aggregate, const ForcedGroups &forced,
                   int64_t block, const std::vector<int32_t> *parentKept,
                   int64_t ratio) {
  RowRanking ranking;
  ranking.shares = normalizeRow(scores, numGroups, aggregate);
  ranking.dense = forced.denseRow(block);
  std::vector<uint8_t> candidate(size_t(numGroups), parentKept ? 0 : 1);
  if (parentKept)
    for (int32_t parent : *parentKept)
      for (int64_t j = parent * ratio;
           j < std::min(numGroups, (parent + 1) * ratio); ++j)
        candidate[j] = 1;

  std::vector<int32_t> others;
  for (int32_t j = 0; j < numGroups; ++j) {
    if (forced.forced(block, j))
      ranking.order.push_back(j);
    else if (candidate[j])
      others.push_back(j);
  }
  ranking.numForced = int64_t(ranking.order.size());
  std::stable_sort(others.begin(), others.end(), [&](int32_t a, int32_t b) {
    return scores[a] > scores[b]; // stable: ties keep the lower index first
  });
  ranking.order.insert(ranking.order.end(), others.begin(), others.end());
  return ranking;
}

int64_t keepCount(const RowRanking &ranking, const SelectionParams &selection,
                  double density, bool finalLevel) {
  int64_t available = int64_t(ranking.order.size());
  if (ranking.dense)
    return int64_t(ranking.shares.size());
  switch (selection.rule) {
  case SelectionRule::TopK: {
    int64_t groups = int64_t(ranking.shares.size());
    int64_t budget = finalLevel ? topkCount(density, groups)
                                : coarseCount(density, groups);
    return std::min(available, std::max(budget, ranking.numForced));
  }
  case SelectionRule::TopP: {
    double kept = 0;
    int64_t n = 0;
    for (; n < ranking.numForced; ++n)
      kept += ranking.shares[ranking.order[n]];
    for (; n < available && kept < selection.p; ++n)
      kept += ranking.shares[ranking.order[n]];
    return n;
  }
  case SelectionRule::Threshold: {
    int64_t n = ranking.numForced;
    if (n < available) // the best candidate, whatever its share
      ++n;
    while (n < available &&
           ranking.shares[ranking.order[n]] > selection.threshold)
      ++n;
    return n;
  }
  }
  return available;
}

BlockSelection selectBlocks(const VariantParams &variant,
                            const std::vector<int32_t> &frames,
                            const std::vector<Tensor> &realScores,
                            const std::vector<double> &headDensity) {
  std::vector<int64_t> sizes = variant.levels();
  const Tensor &first = realScores.front();
  int64_t b = first.dim(0), h = first.dim(1), nq = first.dim(2);
  int64_t seqLen = int64_t(frames.size());
  ScoreAggregate aggregate = variant.scoring.aggregate;

  BlockSelection selection;
  for (size_t l = 0; l < sizes.size(); ++l) {
    const Tensor &real = realScores[l];
    int64_t g = real.dim(3);
    LevelSelection level;
    level.groupSize = sizes[l];
    level.scores = real;
    level.lists = denseLists(b, h, seqLen, variant.block.q, sizes[l]);
    ForcedGroups forced(variant, frames, sizes[l]);
    const LevelSelection *parent = l ? &selection.levels[l - 1] : nullptr;
    int64_t ratio = l ? sizes[l - 1] / sizes[l] : 1;
    bool finalLevel = l + 1 == sizes.size();

    parallelFor(b * h * nq, [&](int64_t row) {
      int64_t ib = row / (h * nq), ih = row / nq % h, i = row % nq;
      double *scores = &level.scores.data[size_t(row * g)];
      const std::vector<int32_t> *parentKept = nullptr;
      if (parent) {
        parentKept = &parent->lists.rows[size_t(row)];
        // Non-candidates inherit: their parent's score spread evenly.
        std::vector<uint8_t> kept(size_t(parent->lists.numGroups), 0);
        for (int32_t p : *parentKept)
          kept[p] = 1;
        for (int64_t j = 0; j < g; ++j)
          if (!kept[j / ratio])
            scores[j] = inheritedScore(parent->scores(ib, ih, i, j / ratio),
                                       ratio, aggregate);
      }
      RowRanking ranking =
          rankRow(scores, g, aggregate, forced, i, parentKept, ratio);
      int64_t n = keepCount(ranking, variant.selection,
                            headDensity[size_t(ib * h + ih)], finalLevel);
      std::vector<int32_t> keep;
      double recall = 0;
      if (ranking.dense) {
        for (int32_t j = 0; j < g; ++j)
          keep.push_back(j);
        recall = 1;
      } else {
        keep.assign(ranking.order.begin(), ranking.order.begin() + n);
        for (int32_t j : keep)
          recall += ranking.shares[j];
      }
      std::sort(keep.begin(), keep.end());
      level.lists.rows[size_t(row)] = std::move(keep);
      level.lists.recall[size_t(row)] = recall;
    });
    selection.levels.push_back(std::move(level));
  }
  return selection;
}

} // namespace sattn::ref
