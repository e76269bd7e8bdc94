//===- Metrics.cpp - How far a sparse output is from dense ----------------===//

#include "compiler/reference/Metrics.h"
#include "compiler/reference/Parallel.h"

#include <algorithm>
#include <cmath>

namespace sattn::ref {

double meanSquaredError(const Tensor &o, const Tensor &dense) {
  double sum = 0;
  for (int64_t i = 0; i < o.size(); ++i) {
    double diff = o.data[size_t(i)] - dense.data[size_t(i)];
    sum += diff * diff;
  }
  return sum / double(o.size());
}

double relativeL2(const Tensor &o, const Tensor &dense) {
  double diff = 0, norm = 0;
  for (int64_t i = 0; i < o.size(); ++i) {
    double e = o.data[size_t(i)] - dense.data[size_t(i)];
    diff += e * e;
    norm += dense.data[size_t(i)] * dense.data[size_t(i)];
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

std::vector<double> headRecall(const Tensor &keptLse, const Tensor &denseLse) {
  int64_t heads = keptLse.dim(0) * keptLse.dim(1), s = keptLse.dim(2);
  std::vector<double> recall(size_t(heads), 0.0);
  for (int64_t bh = 0; bh < heads; ++bh) {
    for (int64_t t = 0; t < s; ++t)
      recall[size_t(bh)] += std::exp(keptLse.data[size_t(bh * s + t)] -
                                     denseLse.data[size_t(bh * s + t)]);
    recall[size_t(bh)] /= double(s);
  }
  return recall;
}

double meanRecall(const Tensor &keptLse, const Tensor &denseLse) {
  std::vector<double> perHead = headRecall(keptLse, denseLse);
  double sum = 0;
  for (double r : perHead)
    sum += r;
  return sum / double(perHead.size());
}

Tensor keptLogSumExp(const Tensor &q, const Tensor &k, const BlockLists &lists,
                     double scale) {
  int64_t h = q.dim(1), s = q.dim(2), d = q.dim(3);
  int64_t nq = lists.numQueryBlocks;
  Tensor lse({q.dim(0), h, s}, -INFINITY);
  parallelFor(lists.numRows(), [&](int64_t row) {
    int64_t ib = row / (h * nq), ih = row / nq % h, i = row % nq;
    std::vector<double> z;
    for (int64_t t = i * lists.blockQ; t < std::min(s, (i + 1) * lists.blockQ);
         ++t) {
      z.clear();
      for (int32_t g : lists.rows[size_t(row)])
        for (int64_t j = g * lists.groupSize;
             j < std::min(s, (g + 1) * lists.groupSize); ++j)
          z.push_back(dot(q.row(ib, ih, t), k.row(ib, ih, j), d) * scale);
      double m = *std::max_element(z.begin(), z.end()), sum = 0;
      for (double x : z)
        sum += std::exp(x - m);
      lse(ib, ih, t) = m + std::log(sum);
    }
  });
  return lse;
}

} // namespace sattn::ref
