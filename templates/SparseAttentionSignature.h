//===- SparseAttentionSignature.h - Parameters of attention kernels -*- C++ -*-===//

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
///   groups, counts               the index lists [B,H,NQ,capacity] and their
///                                lengths [B,H,NQ] (i32)
///   tail_keys, tail_values,      with bins > 0: [B,H,NQ,bins,D] and
///   tail_log_counts              [B,H,NQ,bins] (f32)
///   lse                          with writeLse: [B,H,S] (f32)
///   seq_len, capacity, scale     i32, i32, f32
std::vector<KernelParam> sparseAttentionParams(mlir::MLIRContext *ctx,
                                               const AttentionKernelParams &p);

} // namespace sattn

#endif // SATTN_TEMPLATES_SPARSEATTENTIONSIGNATURE_H
