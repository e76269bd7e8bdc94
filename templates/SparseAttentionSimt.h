//===- SparseAttentionSimt.h - Portable block-sparse attention --*- C++ -*-===//

#ifndef SATTN_TEMPLATES_SPARSEATTENTIONSIMT_H
#define SATTN_TEMPLATES_SPARSEATTENTIONSIMT_H

#include "templates/SparseAttentionSignature.h"

namespace sattn {

/// Emits the portable (SIMT, no tensor cores) block-sparse attention kernel
/// into `module`: exact online softmax over the kept key groups of each query
/// block plus the tail bins' virtual keys. See the .cpp for its shape.
mlir::gpu::GPUFuncOp buildSparseAttentionSimt(mlir::OpBuilder &builder,
                                              mlir::gpu::GPUModuleOp module,
                                              const AttentionKernelParams &p);

} // namespace sattn

#endif // SATTN_TEMPLATES_SPARSEATTENTIONSIMT_H
