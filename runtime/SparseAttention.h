//===- SparseAttention.h - Checks and launches attention --------*- C++ -*-===//

#ifndef SATTN_RUNTIME_SPARSEATTENTION_H
#define SATTN_RUNTIME_SPARSEATTENTION_H

#include "runtime/KernelModule.h"

namespace sattn {

/// Checks the tensors and the mask against the module's sparse-attention
/// kernel (dtype, head_dim, shapes, strides, alignment, device memory on the
/// context's GPU) and launches it on `stream`. The kernel takes any batch,
/// head count and sequence length; the grid follows the tensors.
Status runSparseAttention(const KernelModule &module, const sattn_tensor &q,
                          const sattn_tensor &k, const sattn_tensor &v,
                          const sattn_tensor &out, const sattn_block_mask &mask,
                          float *lse, cu::Stream stream);

/// The launch of runSparseAttention without its checks of the arguments:
/// for callers that checked them already, and for tests that need a kernel
/// to fault.
Status launchSparseAttention(const KernelModule &module, const sattn_tensor &q,
                             const sattn_tensor &k, const sattn_tensor &v,
                             const sattn_tensor &out,
                             const sattn_block_mask &mask, float *lse,
                             cu::Stream stream);

} // namespace sattn

#endif // SATTN_RUNTIME_SPARSEATTENTION_H
