//===- Attention.cpp - Exact softmax attention, dense and sparse ----------===//

#include "compiler/reference/Attention.h"
#include "compiler/reference/Parallel.h"
#include "compiler/reference/Pool.h"

#include <algorithm>
#include <cmath>

namespace sattn::ref {

namespace {

/// One query against the keys `keys` of (b, h) plus the virtual keys of
/// `tail` row `row` (if any): writes the output row and returns the lse.
/// `logits` is scratch space.
double attendOne(const Tensor &q, const Tensor &k, const Tensor &v, int64_t b,
                 int64_t h, int64_t query, const std::vector<int64_t> &keys,
                 const TailBins *tail, int64_t row, double scale, double *out,
                 std::vector<double> &logits) {
  int64_t d = q.dim(3);
  int64_t bins = tail ? tail->bins : 0;
  const double *qRow = q.row(b, h, query);
  logits.resize(keys.size() + size_t(bins));
  double m = -INFINITY;
  for (size_t j = 0; j < keys.size(); ++j)
    m = std::max(m, logits[j] = dot(qRow, k.row(b, h, keys[j]), d) * scale);
  for (int64_t bin = 0; bin < bins; ++bin) {
    double logCount = tail->logCount(row, bin);
    double z = logCount == -INFINITY
                   ? -INFINITY
                   : dot(qRow, tail->key(row, bin), d) * scale + logCount;
    m = std::max(m, logits[keys.size() + size_t(bin)] = z);
  }
  std::fill(out, out + d, 0.0);
  if (m == -INFINITY)
    return -INFINITY;
  double sum = 0;
  for (size_t j = 0; j < logits.size(); ++j) {
    double w = std::exp(logits[j] - m);
    if (w == 0)
      continue;
    sum += w;
    const double *value = j < keys.size()
                              ? v.row(b, h, keys[j])
                              : tail->value(row, int64_t(j - keys.size()));
    for (int64_t e = 0; e < d; ++e)
      out[e] += w * value[e];
  }
  for (int64_t e = 0; e < d; ++e)
    out[e] /= sum;
  return m + std::log(sum);
}

/// The token indices of a row's groups, ascending.
std::vector<int64_t> rowKeys(const BlockLists &lists,
                             const std::vector<int32_t> &row) {
  std::vector<int64_t> keys;
  for (int32_t g : row)
    for (int64_t t = g * lists.groupSize;
         t < std::min(lists.seqLen, (g + 1) * lists.groupSize); ++t)
      keys.push_back(t);
  return keys;
}

Tensor makeLse(const Tensor &q) {
  return Tensor({q.dim(0), q.dim(1), q.dim(2)}, -INFINITY);
}

} // namespace

Tensor denseAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                      double scale, Tensor *lse) {
  int64_t b = q.dim(0), h = q.dim(1), s = q.dim(2);
  Tensor out(q.shape), lseAll = makeLse(q);
  constexpr int64_t chunk = 64;
  int64_t chunks = numTiles(s, chunk);
  std::vector<int64_t> all(size_t(k.dim(2)));
  for (size_t t = 0; t < all.size(); ++t)
    all[t] = int64_t(t);
  parallelFor(b * h * chunks, [&](int64_t work) {
    int64_t ib = work / (h * chunks), ih = work / chunks % h;
    int64_t c = work % chunks;
    std::vector<double> logits;
    for (int64_t t = c * chunk; t < std::min(s, (c + 1) * chunk); ++t)
      lseAll(ib, ih, t) = attendOne(q, k, v, ib, ih, t, all, nullptr, 0,
                                    scale, out.row(ib, ih, t), logits);
  });
  if (lse)
    *lse = std::move(lseAll);
  return out;
}

Tensor sparseAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                       const BlockLists &lists, const TailBins *tail,
                       double scale, Tensor *lse) {
  int64_t h = q.dim(1), s = q.dim(2), nq = lists.numQueryBlocks;
  Tensor out(q.shape), lseAll = makeLse(q);
  parallelFor(lists.numRows(), [&](int64_t row) {
    int64_t ib = row / (h * nq), ih = row / nq % h, i = row % nq;
    std::vector<int64_t> keys = rowKeys(lists, lists.rows[size_t(row)]);
    std::vector<double> logits;
    for (int64_t t = i * lists.blockQ; t < std::min(s, (i + 1) * lists.blockQ);
         ++t)
      lseAll(ib, ih, t) = attendOne(q, k, v, ib, ih, t, keys, tail, row,
                                    scale, out.row(ib, ih, t), logits);
  });
  if (lse)
    *lse = std::move(lseAll);
  return out;
}

Tensor sparseAttentionOtherFrames(const Tensor &q, const Tensor &k,
                                  const Tensor &v, const BlockLists &lists,
                                  const std::vector<int32_t> &frames,
                                  double scale, Tensor *lse) {
  int64_t h = q.dim(1), s = q.dim(2), nq = lists.numQueryBlocks;
  Tensor out(q.shape), lseAll = makeLse(q);
  parallelFor(lists.numRows(), [&](int64_t row) {
    int64_t ib = row / (h * nq), ih = row / nq % h, i = row % nq;
    std::vector<int64_t> keys = rowKeys(lists, lists.rows[size_t(row)]);
    std::vector<int64_t> others;
    std::vector<double> logits;
    for (int64_t t = i * lists.blockQ; t < std::min(s, (i + 1) * lists.blockQ);
         ++t) {
      others.clear();
      for (int64_t key : keys)
        if (frames[t] < 0 || frames[key] != frames[t])
          others.push_back(key);
      lseAll(ib, ih, t) = attendOne(q, k, v, ib, ih, t, others, nullptr, 0,
                                    scale, out.row(ib, ih, t), logits);
    }
  });
  if (lse)
    *lse = std::move(lseAll);
  return out;
}

void mergeSoftmax(const double *oA, double lseA, const double *oB, double lseB,
                  int64_t d, double *out, double *lseOut) {
  double m = std::max(lseA, lseB);
  if (m == -INFINITY) {
    std::fill(out, out + d, 0.0);
    *lseOut = -INFINITY;
    return;
  }
  double wA = std::exp(lseA - m), wB = std::exp(lseB - m);
  for (int64_t e = 0; e < d; ++e)
    out[e] = (wA * oA[e] + wB * oB[e]) / (wA + wB);
  *lseOut = m + std::log(wA + wB);
}

Tensor addVirtualKeys(const Tensor &o, const Tensor &lse, const Tensor &q,
                      const BlockLists &lists, const TailBins &tail,
                      double scale, TailMode mode, Tensor *lseOut) {
  int64_t h = q.dim(1), s = q.dim(2), d = q.dim(3);
  int64_t nq = lists.numQueryBlocks;
  Tensor out = o, lseAll = lse;
  parallelFor(lists.numRows(), [&](int64_t row) {
    int64_t ib = row / (h * nq), ih = row / nq % h, i = row % nq;
    std::vector<double> tailOut(d);
    for (int64_t t = i * lists.blockQ; t < std::min(s, (i + 1) * lists.blockQ);
         ++t) {
      // The virtual keys alone, as one more partial softmax (no real keys,
      // so attendOne reads no k or v rows: q stands in for both).
      const std::vector<int64_t> noKeys;
      std::vector<double> logits;
      double tailLse = attendOne(q, q, q, ib, ih, t, noKeys, &tail, row, scale,
                                 tailOut.data(), logits);
      if (mode == TailMode::NormalizationOnly)
        std::fill(tailOut.begin(), tailOut.end(), 0.0);
      mergeSoftmax(o.row(ib, ih, t), lse(ib, ih, t), tailOut.data(), tailLse,
                   d, out.row(ib, ih, t), &lseAll(ib, ih, t));
    }
  });
  if (lseOut)
    *lseOut = std::move(lseAll);
  return out;
}

} // namespace sattn::ref
