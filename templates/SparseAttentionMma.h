//===- SparseAttentionMma.h - Tensor-core block-sparse attention -*- C++
//-*-===//

#ifndef SATTN_TEMPLATES_SPARSEATTENTIONMMA_H
#define SATTN_TEMPLATES_SPARSEATTENTIONMMA_H

#include "templates/SparseAttentionSignature.h"

namespace sattn {

/// Empty when the mma.sync template can be instantiated for `p`; else what
/// it cannot take (the tile parameters or shape, with their values).
std::string sparseAttentionMmaProblem(const AttentionKernelParams &p);

/// Dynamic shared memory the mma.sync kernel needs for `p`, in bytes.
int64_t sparseAttentionMmaSharedBytes(const AttentionKernelParams &p);

/// Emits the sm_80 tensor-core block-sparse attention kernel (mma.sync
/// m16n8k16, ldmatrix, cp.async pipeline; see the .cpp for its shape) into
/// `module`. Same parameters as every sparse-attention template
/// (sparseAttentionParams). Needs `sparseAttentionMmaSharedBytes(p)` bytes of
/// dynamic shared memory at launch.
mlir::gpu::GPUFuncOp buildSparseAttentionMma(mlir::OpBuilder &builder,
                                             mlir::gpu::GPUModuleOp module,
                                             const AttentionKernelParams &p);

} // namespace sattn

#endif // SATTN_TEMPLATES_SPARSEATTENTIONMMA_H
