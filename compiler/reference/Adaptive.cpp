//===- Adaptive.cpp - Per-head density from a recall target ---------------===//

#include "compiler/reference/Adaptive.h"
#include "compiler/reference/Parallel.h"

#include <algorithm>

namespace sattn::ref {

std::vector<double> recallCurve(const VariantParams &variant,
                                const std::vector<int32_t> &frames,
                                const BlockSelection &probe, int64_t b,
                                int64_t h) {
  size_t last = probe.levels.size() - 1;
  const LevelSelection &level = probe.levels[last];
  const BlockLists &lists = level.lists;
  int64_t g = lists.numGroups, nq = lists.numQueryBlocks;
  ForcedGroups forced(variant, frames, level.groupSize);
  int64_t ratio = last ? probe.levels[last - 1].groupSize / level.groupSize : 1;

  std::vector<double> curve(size_t(g), 0.0);
  for (int64_t i = 0; i < nq; ++i) {
    int64_t row = lists.rowIndex(b, h, i);
    const std::vector<int32_t> *parentKept =
        last ? &probe.levels[last - 1].lists.rows[size_t(row)] : nullptr;
    RowRanking ranking =
        rankRow(&level.scores.data[size_t(row * g)], g,
                variant.scoring.aggregate, forced, i, parentKept, ratio);
    // recall(k): the share of the first max(k, forced) ranked groups.
    double kept = 0;
    size_t n = 0;
    for (int64_t k = 1; k <= g; ++k) {
      size_t want = std::min(ranking.order.size(),
                             size_t(std::max<int64_t>(k, ranking.numForced)));
      for (; n < want; ++n)
        kept += ranking.shares[ranking.order[n]];
      curve[size_t(k - 1)] += ranking.dense ? 1.0 : kept;
    }
  }
  for (double &r : curve)
    r /= double(nq);
  return curve;
}

std::vector<double> adaptiveDensities(const VariantParams &variant,
                                      const std::vector<int32_t> &frames,
                                      const BlockSelection &probe) {
  const BlockLists &lists = probe.lists();
  const AdaptiveParams &adaptive = variant.adaptive;
  std::vector<double> density(size_t(lists.batch * lists.heads));
  parallelFor(lists.batch * lists.heads, [&](int64_t bh) {
    std::vector<double> curve = recallCurve(variant, frames, probe,
                                            bh / lists.heads, bh % lists.heads);
    int64_t g = int64_t(curve.size()), k = 1;
    // A tolerance so that a target of exactly 1 is met by keeping all.
    while (k < g && curve[size_t(k - 1)] < adaptive.targetRecall - 1e-12)
      ++k;
    density[size_t(bh)] = std::clamp(double(k) / double(g),
                                     adaptive.minDensity, adaptive.maxDensity);
  });
  return density;
}

} // namespace sattn::ref
