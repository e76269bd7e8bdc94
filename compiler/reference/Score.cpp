//===- Score.cpp - Block scores of key groups, per level ------------------===//

#include "compiler/reference/Score.h"
#include "compiler/reference/Parallel.h"
#include "compiler/reference/Pool.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace sattn::ref {

std::vector<Tensor> scoreSoftmaxSum(const Tensor &q, const Tensor &k,
                                    int64_t poolQ, int64_t poolK,
                                    int64_t blockQ,
                                    const std::vector<int64_t> &groupSizes,
                                    double scale) {
  int64_t b = q.dim(0), h = q.dim(1), s = q.dim(2), d = q.dim(3);
  assert(blockQ % poolQ == 0 && "query tiles must not straddle blocks");
  Tensor qTiles = poolMeans(q, poolQ), kTiles = poolMeans(k, poolK);
  int64_t nqt = qTiles.dim(2), nkt = kTiles.dim(2);
  int64_t nq = numTiles(s, blockQ);

  std::vector<Tensor> scores;
  for (int64_t size : groupSizes) {
    assert(size % poolK == 0 && "key tiles must not straddle groups");
    scores.emplace_back(std::vector<int64_t>{b, h, nq, numTiles(s, size)});
  }
  parallelFor(b * h, [&](int64_t bh) {
    int64_t ib = bh / h, ih = bh % h;
    std::vector<double> p(nkt);
    for (int64_t a = 0; a < nqt; ++a) {
      double m = -INFINITY;
      for (int64_t c = 0; c < nkt; ++c) {
        p[c] = dot(qTiles.row(ib, ih, a), kTiles.row(ib, ih, c), d) * scale;
        m = std::max(m, p[c]);
      }
      double sum = 0;
      for (int64_t c = 0; c < nkt; ++c)
        sum += (p[c] = std::exp(p[c] - m));
      int64_t i = a * poolQ / blockQ;
      for (size_t l = 0; l < groupSizes.size(); ++l)
        for (int64_t c = 0; c < nkt; ++c)
          scores[l](ib, ih, i, c * poolK / groupSizes[l]) += p[c] / sum;
    }
  });
  return scores;
}

Tensor scoreLogit(const Tensor &q, const Tensor &k, int64_t blockQ,
                  int64_t groupSize, double scale) {
  int64_t b = q.dim(0), h = q.dim(1), s = q.dim(2), d = q.dim(3);
  Tensor qBlocks = poolMeans(q, blockQ), kGroups = poolMeans(k, groupSize);
  int64_t nq = qBlocks.dim(2), g = kGroups.dim(2);
  Tensor scores({b, h, nq, g});
  for (int64_t ib = 0; ib < b; ++ib)
    for (int64_t ih = 0; ih < h; ++ih)
      for (int64_t i = 0; i < nq; ++i)
        for (int64_t j = 0; j < g; ++j)
          scores(ib, ih, i, j) =
              dot(qBlocks.row(ib, ih, i), kGroups.row(ib, ih, j), d) * scale +
              std::log(double(tileCount(s, groupSize, j)));
  return scores;
}

std::vector<Tensor> scoreLevels(const VariantParams &variant, const Tensor &q,
                                const Tensor &k) {
  double scale = variant.problem.softmaxScale();
  std::vector<int64_t> levels = variant.levels();
  if (variant.scoring.aggregate == ScoreAggregate::SoftmaxSum)
    return scoreSoftmaxSum(q, k, variant.scoring.poolQ, variant.scoring.poolK,
                           variant.block.q, levels, scale);
  std::vector<Tensor> scores;
  for (int64_t size : levels)
    scores.push_back(scoreLogit(q, k, variant.block.q, size, scale));
  return scores;
}

double inheritedScore(double parent, int64_t ratio, ScoreAggregate aggregate) {
  return aggregate == ScoreAggregate::SoftmaxSum
             ? parent / double(ratio)
             : parent - std::log(double(ratio));
}

std::vector<double> normalizeRow(const double *scores, int64_t count,
                                 ScoreAggregate aggregate) {
  std::vector<double> shares(scores, scores + count);
  if (aggregate == ScoreAggregate::SoftmaxSum) {
    double total = 0;
    for (double v : shares)
      total += v;
    for (double &v : shares)
      v = total > 0 ? v / total : 1.0 / double(count);
    return shares;
  }
  double m = *std::max_element(shares.begin(), shares.end());
  double total = 0;
  for (double &v : shares)
    total += (v = std::exp(v - m));
  for (double &v : shares)
    v /= total;
  return shares;
}

} // namespace sattn::ref
