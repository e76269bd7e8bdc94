//===- SparseAttentionMma.h - Tensor-core block-sparse attention -*- C++
//-*-===//

#ifndef SATTN_TEMPLATES_SPARSEATTENTIONMMA_H
#define SATTN_TEMPLATES_SPARSEATTENTIONMMA_H

#include "templates/SparseAttentionSignature.h"

namespace sattn {

/// Empty when the tensor-core template (mma.sync, or wgmma with `p.wgmma`)
/// can be instantiated for `p`; else what it cannot take (the tile
/// parameters or shape, with their values).
std::string sparseAttentionMmaProblem(const AttentionKernelParams &p);

/// The kernel and its tile for `p` as the manifest names it: "wgmma
/// key_tile=128 stages=2", "mma key_tile=64 stages=2 warp_rows=32".
std::string sparseAttentionMmaImplementation(const AttentionKernelParams &p);

/// Dynamic shared memory the kernel needs for `p`, in bytes.
int64_t sparseAttentionMmaSharedBytes(const AttentionKernelParams &p);

/// Emits the tensor-core block-sparse attention kernel into `module`:
/// mma.sync m16n8k16 with ldmatrix (sm_80 and later), or with `p.wgmma`
/// wgmma m64nNk16 through shared-memory descriptors (sm_90a); both with a
/// cp.async pipeline (see the .cpp for their shape). Same parameters as every sparse-attention template
/// (sparseAttentionParams). Needs `sparseAttentionMmaSharedBytes(p)` bytes of
/// dynamic shared memory at launch.
mlir::gpu::GPUFuncOp buildSparseAttentionMma(mlir::OpBuilder &builder,
                                             mlir::gpu::GPUModuleOp module,
                                             const AttentionKernelParams &p);

} // namespace sattn

#endif // SATTN_TEMPLATES_SPARSEATTENTIONMMA_H
