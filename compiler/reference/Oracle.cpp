//===- Oracle.cpp - Token-level exact top-k with per-query tails ----------===//

#include "compiler/reference/Oracle.h"
#include "compiler/reference/Parallel.h"
#include "compiler/reference/Select.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sattn::ref {

int64_t oracleKeptKeys(double kept, int64_t seqLen) {
  return topkCount(kept, seqLen);
}

std::vector<int64_t> oracleRanking(const std::vector<double> &logits) {
  std::vector<int64_t> ranking(logits.size());
  std::iota(ranking.begin(), ranking.end(), 0);
  std::stable_sort(ranking.begin(), ranking.end(), [&](int64_t a, int64_t b) {
    return logits[size_t(a)] > logits[size_t(b)];
  });
  return ranking;
}

Tensor oracleAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                       double scale, const OracleConfig &config,
                       Tensor *keptLse) {
  int64_t b = q.dim(0), h = q.dim(1), s = q.dim(2), d = q.dim(3);
  int64_t keys = k.dim(2);
  int64_t kept = oracleKeptKeys(config.kept, keys);
  Tensor out(q.shape), lse({b, h, s}, -INFINITY);
  parallelFor(b * h * s, [&](int64_t work) {
    int64_t ib = work / (h * s), ih = work / s % h, t = work % s;
    const double *query = q.row(ib, ih, t);
    std::vector<double> logits(keys);
    for (int64_t j = 0; j < keys; ++j)
      logits[size_t(j)] = dot(query, k.row(ib, ih, j), d) * scale;
    std::vector<int64_t> ranking = oracleRanking(logits);

    // The softmax terms: the kept keys, then one virtual key per bin.
    std::vector<double> z;
    std::vector<std::vector<double>> values;
    for (int64_t r = 0; r < kept; ++r) {
      z.push_back(logits[size_t(ranking[size_t(r)])]);
      const double *value = v.row(ib, ih, ranking[size_t(r)]);
      values.emplace_back(value, value + d);
    }
    int64_t dropped = keys - kept;
    int64_t bins = std::min(config.bins, dropped);
    for (int64_t bin = 0, next = kept; bin < bins; ++bin) {
      int64_t count = dropped / bins + (bin < dropped % bins ? 1 : 0);
      std::vector<double> meanKey(size_t(d), 0.0), meanValue(size_t(d), 0.0);
      for (int64_t r = next; r < next + count; ++r)
        for (int64_t e = 0; e < d; ++e) {
          meanKey[size_t(e)] += k(ib, ih, ranking[size_t(r)], e) / double(count);
          meanValue[size_t(e)] +=
              v(ib, ih, ranking[size_t(r)], e) / double(count);
        }
      next += count;
      z.push_back(dot(query, meanKey.data(), d) * scale +
                  std::log(double(count)));
      if (config.mode == TailMode::NormalizationOnly)
        std::fill(meanValue.begin(), meanValue.end(), 0.0);
      values.push_back(std::move(meanValue));
    }

    double m = *std::max_element(z.begin(), z.end());
    double sum = 0, keptSum = 0;
    double *o = out.row(ib, ih, t);
    for (size_t j = 0; j < z.size(); ++j) {
      double w = std::exp(z[j] - m);
      sum += w;
      if (int64_t(j) < kept)
        keptSum += w;
      for (int64_t e = 0; e < d; ++e)
        o[e] += w * values[j][size_t(e)];
    }
    for (int64_t e = 0; e < d; ++e)
      o[e] /= sum;
    lse(ib, ih, t) = m + std::log(keptSum);
  });
  if (keptLse)
    *keptLse = std::move(lse);
  return out;
}

} // namespace sattn::ref
