//===- TailBins.cpp - UTA's aggregated tail bins per query block ----------===//

#include "compiler/reference/TailBins.h"
#include "compiler/reference/Parallel.h"
#include "compiler/reference/Pool.h"

#include <algorithm>
#include <cmath>

namespace sattn::ref {

TailMembership assignTailBins(const BlockLists &lists, const Tensor &scores,
                              int64_t bins) {
  TailMembership membership;
  membership.bins = bins;
  membership.groups.resize(size_t(lists.numRows() * bins));
  if (bins == 0)
    return membership;
  int64_t g = lists.numGroups;
  for (int64_t row = 0; row < lists.numRows(); ++row) {
    std::vector<uint8_t> kept(size_t(g), 0);
    for (int32_t j : lists.rows[size_t(row)])
      kept[j] = 1;
    std::vector<int32_t> rest;
    for (int32_t j = 0; j < g; ++j)
      if (!kept[j])
        rest.push_back(j);
    const double *rowScores = &scores.data[size_t(row * g)];
    std::stable_sort(rest.begin(), rest.end(), [&](int32_t a, int32_t b) {
      return rowScores[a] > rowScores[b]; // ties keep the lower index first
    });
    // Runs of near-equal length, the earlier ones one group longer.
    int64_t used = std::min<int64_t>(bins, int64_t(rest.size()));
    size_t next = 0;
    for (int64_t b = 0; b < used; ++b) {
      int64_t count = int64_t(rest.size()) / used +
                      (b < int64_t(rest.size()) % used ? 1 : 0);
      std::vector<int32_t> &bin = membership.groups[size_t(row * bins + b)];
      bin.assign(rest.begin() + next, rest.begin() + next + count);
      next += size_t(count);
    }
  }
  return membership;
}

TailBins computeTailBins(const Tensor &k, const Tensor &v,
                         const BlockLists &lists,
                         const TailMembership &membership) {
  int64_t b = k.dim(0), h = k.dim(1), s = k.dim(2), d = k.dim(3);
  int64_t nq = lists.numQueryBlocks, bins = membership.bins;
  TailBins tail;
  tail.bins = bins;
  tail.keys = Tensor({b, h, nq, bins, d});
  tail.values = Tensor({b, h, nq, bins, d});
  tail.logCounts = Tensor({b, h, nq, bins}, -INFINITY);
  if (bins == 0)
    return tail;
  // Group sums first: a bin's sum is the sum of its groups' sums.
  int64_t g = lists.numGroups;
  Tensor kSums({b, h, g, d}), vSums({b, h, g, d});
  for (int64_t ib = 0; ib < b; ++ib)
    for (int64_t ih = 0; ih < h; ++ih)
      for (int64_t t = 0; t < s; ++t)
        for (int64_t e = 0; e < d; ++e) {
          kSums(ib, ih, t / lists.groupSize, e) += k(ib, ih, t, e);
          vSums(ib, ih, t / lists.groupSize, e) += v(ib, ih, t, e);
        }

  parallelFor(b * h * nq, [&](int64_t row) {
    int64_t ib = row / (h * nq), ih = row / nq % h;
    for (int64_t bin = 0; bin < bins; ++bin) {
      const std::vector<int32_t> &groups = membership.bin(row, bin);
      if (groups.empty())
        continue;
      double *key = &tail.keys.data[size_t((row * bins + bin) * d)];
      double *value = &tail.values.data[size_t((row * bins + bin) * d)];
      int64_t count = 0;
      for (int32_t j : groups) {
        count += tileCount(s, lists.groupSize, j);
        for (int64_t e = 0; e < d; ++e) {
          key[e] += kSums(ib, ih, j, e);
          value[e] += vSums(ib, ih, j, e);
        }
      }
      for (int64_t e = 0; e < d; ++e) {
        key[e] /= double(count);
        value[e] /= double(count);
      }
      tail.logCounts.data[size_t(row * bins + bin)] = std::log(double(count));
    }
  });
  return tail;
}

} // namespace sattn::ref
