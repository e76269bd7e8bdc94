//===- SparseAttentionSignature.h - Parameters of attention kernels -*- C++
//-*-===//

#ifndef SATTN_TEMPLATES_SPARSEATTENTIONSIGNATURE_H
#define SATTN_TEMPLATES_SPARSEATTENTIONSIGNATURE_H

#include "templates/KernelBuilder.h"
#include "templates/KernelParams.h"

namespace sattn {

/// The parameters of the sparse attention kernels, in PTX order. Every
/// sparse-attention template takes this same list, so the runtime binds them
/// the same way whichever template was chosen:
///   q, k, v, out                 buffers (bf16/fp16)
///   {q,k,v,out} strides 0,1,2    batch, head and token strides in elements
///                                (head_dim contiguous: [B,H,S,D] and
///                                [B,S,H,D] both work without a copy)
///   k_map, v_map                 warp-specialized kernels on the reordered
///                                sequence: the TMA tensor maps of k and v
///                                (KernelParam::tensorMap)
///   groups, counts               the index lists [B,H,NQ,capacity] and their
///                                lengths [B,H,NQ] (i32)
///   tail_keys, tail_values,      with bins > 0: [B,H,NQ,bins,D] and
///   tail_log_counts              [B,H,NQ,bins] (f32)
///   lse                          with writeLse: [B,H,S] (f32)
///   seq_len, capacity, scale     i32, i32, f32
///   dense                        i32: nonzero walks every key group (the
///                                runtime's dense warm-up steps)
///   heads, batch                 persistent kernels: i32, the problem's
///                                heads and batch (their grid is one CTA per
///                                multiprocessor, not the problem)
std::vector<KernelParam> sparseAttentionParams(mlir::MLIRContext *ctx,
                                               const AttentionKernelParams &p);

/// What every sparse-attention kernel reads first, as values at its entry:
/// the CTA's work item (grid x = query block, y = head, z = batch), the
/// views of q, k, v and out at its (batch, head), and its index list with
/// the count clamped into [0, capacity]. The templates differ in how they
/// walk the list, not in these. A persistent kernel's entry has no item:
/// it calls setItem for each one it takes.
struct AttentionEntry {
  struct Tensor {
    mlir::Value view, base, tokenStride; // elements; head_dim contiguous
    mlir::Value batchStride, headStride;
  };
  Tensor q, k, v, out;
  mlir::Value seqLen, capacity, scaleLog2;
  mlir::Value queryBlock, head, batch, numQueryBlocks, heads;
  /// Persistent kernels: the number of (query block, head, batch) items.
  mlir::Value items;
  /// batch * heads + head, and the (batch, head, query block) row of the
  /// index lists.
  mlir::Value batchHead, row;
  /// First token of the query block.
  mlir::Value blockStart;
  mlir::Value thread, warp, lane;
  mlir::Value groups, counts, count, listBase;
  /// i1: a dense step; `count` is then the capacity and groupAt(i) = i.
  mlir::Value dense;
  /// `token_order` (i32 [S]) when the kernel reads and writes its rows
  /// through the token order (AttentionKernelParams::tokenOrder); else null.
  mlir::Value tokenOrder;
  /// Makes item `item` (index) of a persistent kernel the current one
  /// (query blocks vary fastest, then heads, then batches: the grid's
  /// order): its coordinates, batchHead, row, blockStart, the tensors'
  /// bases, count and listBase.
  void setItem(KernelOps &m, const AttentionKernelParams &p, mlir::Value item);
  /// The i32 group in list slot `slot` (< count) of this row.
  mlir::Value groupAt(KernelOps &m, mlir::Value slot) const;
  /// The row of q, k, v or out (index) that holds position `position`
  /// (index, < S) of the reordered sequence the lists refer to: the
  /// position itself, or its entry of the token order (clamped into the
  /// sequence, so that a bad table cannot address outside the tensors).
  mlir::Value rowOf(KernelOps &m, mlir::Value position) const;

  /// From queryBlock, head and batch: batchHead, row and blockStart.
  void setCoordinates(KernelOps &m, const AttentionKernelParams &p);
  /// From row: count (clamped) and listBase.
  void setList(KernelOps &m);
};

/// Emits the entry reads at the builder's insertion point. `arg` gives the
/// kernel argument of a parameter (name, stride dim).
AttentionEntry readAttentionEntry(
    KernelOps &ops, const AttentionKernelParams &p,
    llvm::function_ref<mlir::Value(llvm::StringRef, int64_t)> arg);

} // namespace sattn

#endif // SATTN_TEMPLATES_SPARSEATTENTIONSIGNATURE_H
