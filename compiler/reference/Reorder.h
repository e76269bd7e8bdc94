//===- Reorder.h - The token permutation π and its inverse ------*- C++ -*-===//
//
// SPEC §4.1 and §4.8. The video tokens of a T × H × W latent are numbered
// frame-major (t·H·W + y·W + x); a reorder permutes them so that tokens that
// attend to each other sit in the same blocks. Text tokens (E of them, first
// or last) keep their positions; the video tokens fill the other S − E.
//
//   identity   frame-major.
//   tile       tiles of a×b×c tokens in raster order over the tile grid,
//              raster order inside a tile; edge tiles may be partial.
//   hilbert2d  per frame, the generalized Hilbert curve (gilbert) over the
//              H × W positions; frames in order. With a tile: tile-frames in
//              order, the curve over the tile rows × tile columns of a
//              tile-frame, raster order inside a tile.
//   hilbert3d  tokens (or, with a tile, tiles) sorted by their index on the
//              3D Hilbert curve of the enclosing power-of-two cube, with t
//              as the first (most significant) coordinate, then y, then x;
//              raster order inside a tile.
//   hwf        position-major: all frames of one (y, x) consecutive,
//              positions in raster order.
//   fwh        frames in order, within a frame x-major (column by column).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_REORDER_H
#define SATTN_COMPILER_REFERENCE_REORDER_H

#include "compiler/reference/Tensor.h"
#include "dialect/VariantParams.h"

#include <cstdint>
#include <vector>

namespace sattn::ref {

/// order[i] = the original (frame-major) token index at reordered position
/// i; size S. A bijection on [0, S) that fixes the text positions.
std::vector<int64_t> tokenOrder(const ProblemParams &problem,
                                const ReorderParams &reorder);

/// The permutation of the T·H·W video tokens alone (video index space,
/// no text offset).
std::vector<int64_t> videoOrder(const std::vector<int64_t> &grid,
                                const ReorderParams &reorder);

/// x reordered along dim 2 of [B, H, S, ...] (rank 3 or 4):
/// out[.., i, ..] = x[.., order[i], ..].
Tensor reorder(const Tensor &x, const std::vector<int64_t> &order);
/// The inverse: out[.., order[i], ..] = x[.., i, ..].
Tensor unreorder(const Tensor &x, const std::vector<int64_t> &order);

/// The frame of the token at each reordered position, -1 for text tokens.
/// `order` is tokenOrder(problem, ...) or the identity.
std::vector<int32_t> framesOf(const ProblemParams &problem,
                              const std::vector<int64_t> &order);

/// The identity permutation of size n.
std::vector<int64_t> identityOrder(int64_t n);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_REORDER_H
