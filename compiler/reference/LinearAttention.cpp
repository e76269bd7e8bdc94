//===- LinearAttention.cpp - SparseFlow's linear spatial path -------------===//

#include "compiler/reference/LinearAttention.h"
#include "compiler/reference/Parallel.h"

#include <cmath>

namespace sattn::ref {

double phi(double x) { return x > 0 ? x + 1 : std::exp(x); }

Tensor linearAttention(const ProblemParams &problem, const Tensor &q,
                       const Tensor &k, const Tensor &v,
                       Tensor *logNormalizer) {
  int64_t b = q.dim(0), h = q.dim(1), s = q.dim(2), d = q.dim(3);
  int64_t frames = problem.grid[0];
  int64_t frameSize = problem.grid[1] * problem.grid[2];
  int64_t begin = problem.videoBegin();
  Tensor out(q.shape), logZ({b, h, s}, -INFINITY);
  parallelFor(b * h * frames, [&](int64_t work) {
    int64_t ib = work / (h * frames), ih = work / frames % h, f = work % frames;
    int64_t first = begin + f * frameSize, last = first + frameSize;
    // The frame's state: Σ φ(k) vᵀ (d × d) and Σ φ(k) (d).
    std::vector<double> kv(size_t(d * d), 0.0), kSum(size_t(d), 0.0);
    std::vector<double> phiRow(d);
    for (int64_t t = first; t < last; ++t) {
      const double *key = k.row(ib, ih, t), *value = v.row(ib, ih, t);
      for (int64_t e = 0; e < d; ++e) {
        double pk = phi(key[e]);
        kSum[e] += pk;
        for (int64_t c = 0; c < d; ++c)
          kv[size_t(e * d + c)] += pk * value[c];
      }
    }
    for (int64_t t = first; t < last; ++t) {
      const double *query = q.row(ib, ih, t);
      for (int64_t e = 0; e < d; ++e)
        phiRow[e] = phi(query[e]);
      double z = dot(phiRow.data(), kSum.data(), d);
      double *o = out.row(ib, ih, t);
      for (int64_t e = 0; e < d; ++e)
        for (int64_t c = 0; c < d; ++c)
          o[c] += phiRow[e] * kv[size_t(e * d + c)];
      for (int64_t c = 0; c < d; ++c)
        o[c] /= z;
      logZ(ib, ih, t) = std::log(z);
    }
  });
  if (logNormalizer)
    *logNormalizer = std::move(logZ);
  return out;
}

} // namespace sattn::ref
