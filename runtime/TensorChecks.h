//===- TensorChecks.h - Caller tensors checked before a launch --*- C++ -*-===//
//
// What every entry point that takes device memory from its caller checks
// before a kernel may touch it (sattn_sparse_attention, sattn_run): dtype,
// shape, head_dim, strides (head_dim contiguous, 16-byte rows), alignment,
// and that the pointer is device memory of the context's GPU with enough
// bytes behind it. A wrong argument is a status naming it, never a fault.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_TENSORCHECKS_H
#define SATTN_RUNTIME_TENSORCHECKS_H

#include "runtime/Context.h"

#include <cstdint>
#include <string>

namespace sattn {

/// "[1, 40, 32760, 128]"
std::string shapeText(const int64_t shape[4]);

/// `pointer` must be device memory of the context's GPU (or managed memory)
/// with at least `bytes` of its allocation from there on: a buffer smaller
/// than its shape says would be read or written past its end.
Status checkDevicePointer(const Context &context, const char *what,
                          const void *pointer, uint64_t bytes);

/// Bytes from the first to one past the last element of a tensor with
/// `shape` and `strides` (elements of `elementBytes`).
uint64_t extentBytes(const int64_t shape[], const int64_t strides[], int rank,
                     uint64_t elementBytes);

/// Checks tensor `name` against the expected `shape` (described in messages
/// as `shapeOrigin`, e.g. "q.shape" or "the plan's shape"), `dtype` and
/// `headDim`, then its strides, alignment and memory.
Status checkTensor(const Context &context, const char *name,
                   const sattn_tensor &t, const int64_t shape[4],
                   const char *shapeOrigin, sattn_dtype dtype,
                   int64_t headDim);

} // namespace sattn

#endif // SATTN_RUNTIME_TENSORCHECKS_H
