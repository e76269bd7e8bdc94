//===- KernelParams.h - Tile parameters of the kernel templates -*- C++ -*-===//
//
// What a template needs to emit one kernel, as one struct per template, filled
// once by the instantiation pass from a stage op (and later from the tuning
// database) and passed down unchanged.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_TEMPLATES_KERNELPARAMS_H
#define SATTN_TEMPLATES_KERNELPARAMS_H

#include "dialect/VariantParams.h"

#include <cstdint>
#include <string>

namespace sattn {

/// The block-sparse attention forward kernel (SPEC §4.6).
struct AttentionKernelParams {
  std::string name = "sattn_sparse_attention";
  DType dtype = DType::BF16;
  int64_t headDim = 128;
  int64_t blockQ = 128;
  int64_t blockK = 128;
  /// Tail bins per query block (0: none); compiled in, not a run-time value.
  int64_t bins = 0;
  /// Also write each row's log-sum-exp (for the hybrid merge).
  bool writeLse = false;
  /// Warps per thread block (the SIMT template; the mma.sync template uses
  /// one warp per 16 query rows).
  int64_t warps = 4;
  /// Keys per shared-memory tile of the mma.sync template: key groups smaller
  /// than this are gathered into one tile, larger ones split into several.
  int64_t keyTile = 64;
  /// cp.async pipeline depth of the mma.sync template (K/V tiles in flight).
  int64_t stages = 2;
  /// Query rows per warp of the mma.sync template: 16 or 32 (two m16 tiles,
  /// which halves the shared-memory reads of K and V per FLOP). 0: 32 for
  /// query blocks of 128, 16 for 64.
  int64_t warpRows = 0;
  /// sm_90a: the matrix products on wgmma (a warpgroup of 4 warps per 64
  /// query rows, Q/K/V tiles read by the tensor cores from 128-byte swizzled
  /// shared memory) instead of mma.sync; the loads, softmax and tail bins
  /// are the same. warpRows is then 16.
  bool wgmma = false;
  /// sm_90a, the same products as `wgmma` in a warp-specialized kernel:
  /// warpgroup 0 loads K/V tiles (cp.async, completing on mbarriers), one
  /// consumer warpgroup per 64 query rows
  /// computes, and two consumers take turns issuing their products (named
  /// barriers) so that one's softmax overlaps the other's matrix products.
  /// Exclusive with `wgmma`.
  bool warpSpecialized = false;
  /// q, k, v and out are in frame-major order: every row is read and written
  /// through the `token_order` table (position i of the reordered sequence
  /// the index lists refer to is row token_order[i]), instead of from
  /// reordered copies.
  bool tokenOrder = false;
  /// Warp-specialized only: a persistent grid. The runtime launches one CTA
  /// per multiprocessor (at most one per work item) and each walks the
  /// (query block, head, batch) items blockIdx.x, blockIdx.x + gridDim.x,
  /// ... of the problem (the `heads` and `batch` scalars give its size), so
  /// that the producer loads the next item's first tiles while the
  /// consumers finish the last one and no CTA is launched, set up and
  /// drained per item.
  bool persistent = false;
};

/// Whether the attention kernel loads its K/V tiles with TMA: the
/// warp-specialized kernel does when it reads the reordered sequence (key
/// groups are then runs of whole rows, one box each). Through the token
/// order a group's rows are scattered over the tensor and its producer
/// gathers them with cp.async: one TMA box per row measured twice as slow
/// in the wan2.1-480p plan on an H100 (9.3 ms against 4.6 ms,
/// bench/NOTES-mma.md).
inline bool loadsKeysWithTma(const AttentionKernelParams &p) {
  return p.warpSpecialized && !p.tokenOrder;
}

/// Rows of a K/V box: a key group, or one key tile of a larger group.
inline int64_t tmaBoxRows(const AttentionKernelParams &p) {
  return p.blockK < p.keyTile ? p.blockK : p.keyTile;
}

} // namespace sattn

#endif // SATTN_TEMPLATES_KERNELPARAMS_H
