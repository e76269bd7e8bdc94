//===- Pool.cpp - Means over tiles of consecutive tokens ------------------===//

#include "compiler/reference/Pool.h"

#include <algorithm>

namespace sattn::ref {

int64_t numTiles(int64_t seqLen, int64_t tile) {
  return (seqLen + tile - 1) / tile;
}

int64_t tileCount(int64_t seqLen, int64_t tile, int64_t j) {
  return std::min(seqLen, (j + 1) * tile) - j * tile;
}

Tensor poolMeans(const Tensor &x, int64_t tile) {
  int64_t b = x.dim(0), h = x.dim(1), s = x.dim(2), d = x.dim(3);
  int64_t n = numTiles(s, tile);
  Tensor out({b, h, n, d});
  for (int64_t ib = 0; ib < b; ++ib)
    for (int64_t ih = 0; ih < h; ++ih)
      for (int64_t j = 0; j < n; ++j) {
        double *mean = out.row(ib, ih, j);
        int64_t count = tileCount(s, tile, j);
        for (int64_t t = j * tile; t < j * tile + count; ++t) {
          const double *src = x.row(ib, ih, t);
          for (int64_t e = 0; e < d; ++e)
            mean[e] += src[e];
        }
        for (int64_t e = 0; e < d; ++e)
          mean[e] /= double(count);
      }
  return out;
}

} // namespace sattn::ref
