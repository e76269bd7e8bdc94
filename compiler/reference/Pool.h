//===- Pool.h - Means over tiles of consecutive tokens ----------*- C++ -*-===//
//
// SPEC §4.2: the mean of q over query tiles and of k (and v) over key tiles
// or groups, in reordered order. Tile j covers tokens [j·tile,
// min((j+1)·tile, S)); the last one may be partial and is averaged over its
// own count, never padded with zeros into the mean.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_POOL_H
#define SATTN_COMPILER_REFERENCE_POOL_H

#include "compiler/reference/Tensor.h"

namespace sattn::ref {

/// [B, H, S, D] -> [B, H, ceil(S / tile), D].
Tensor poolMeans(const Tensor &x, int64_t tile);

/// The number of tiles of `tile` tokens that cover `seqLen` tokens.
int64_t numTiles(int64_t seqLen, int64_t tile);
/// The token count of tile j (tile except for a partial last one).
int64_t tileCount(int64_t seqLen, int64_t tile, int64_t j);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_POOL_H
