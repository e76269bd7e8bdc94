//===- TensorChecks.cpp - Caller tensors checked before a launch ----------===//

#include "runtime/TensorChecks.h"

#include <cstring>

namespace sattn {

std::string shapeText(const int64_t shape[4]) {
  return "[" + std::to_string(shape[0]) + ", " + std::to_string(shape[1]) +
         ", " + std::to_string(shape[2]) + ", " + std::to_string(shape[3]) +
         "]";
}

Status checkDevicePointer(const Context &context, const char *what,
                          const void *pointer, uint64_t bytes) {
  if (!pointer)
    return Status::invalid(std::string(what) + " is null");
  const CudaDriver &cuda = context.cuda();
  unsigned type = 0;
  cu::Result r = cuda.pointerGetAttribute(&type, cu::kPointerMemoryType,
                                          cu::DevicePtr(uintptr_t(pointer)));
  if (r != cu::kSuccess)
    return Status::invalid(std::string(what) +
                           " is not CUDA memory (a host pointer?)");
  if (type == cu::kMemoryHost)
    return Status::invalid(std::string(what) +
                           " is pinned host memory; pass device memory");
  int ordinal = -1;
  r = cuda.pointerGetAttribute(&ordinal, cu::kPointerDeviceOrdinal,
                               cu::DevicePtr(uintptr_t(pointer)));
  if (r == cu::kSuccess && ordinal != context.device().ordinal)
    return Status::invalid(std::string(what) + " is on GPU " +
                           std::to_string(ordinal) + ", the context on GPU " +
                           std::to_string(context.device().ordinal));
  cu::DevicePtr base = 0;
  size_t size = 0;
  r = cuda.memGetAddressRange(&base, &size, cu::DevicePtr(uintptr_t(pointer)));
  uint64_t available = base + size - uintptr_t(pointer);
  if (r == cu::kSuccess && available < bytes)
    return Status::invalid(std::string(what) + " needs " +
                           std::to_string(bytes) +
                           " bytes from there on, "
                           "but its allocation ends after " +
                           std::to_string(available));
  return Status::ok();
}

uint64_t extentBytes(const int64_t shape[], const int64_t strides[], int rank,
                     uint64_t elementBytes) {
  uint64_t last = 0;
  for (int i = 0; i < rank; ++i)
    last += uint64_t(shape[i] - 1) * uint64_t(strides[i]);
  return (last + 1) * elementBytes;
}

Status checkTensor(const Context &context, const char *name,
                   const sattn_tensor &t, const int64_t shape[4],
                   const char *shapeOrigin, sattn_dtype dtype,
                   int64_t headDim) {
  std::string n = name;
  if (t.dtype != dtype)
    return Status::invalid(
        n + ".dtype is " + (t.dtype == SATTN_BF16 ? "bf16" : "fp16") +
        ", the kernels take " + (dtype == SATTN_BF16 ? "bf16" : "fp16"));
  if (std::memcmp(t.shape, shape, sizeof t.shape) != 0)
    return Status::invalid(n + ".shape is " + shapeText(t.shape) +
                           ", " + shapeOrigin + " is " +
                           shapeText(shape));
  for (int i = 0; i < 4; ++i)
    if (t.shape[i] <= 0)
      return Status::invalid(n + ".shape " + shapeText(t.shape) +
                             " has an empty dimension");
  if (t.shape[3] != headDim)
    return Status::invalid(n + ".shape[3] (head_dim) is " +
                           std::to_string(t.shape[3]) + ", the kernels take " +
                           std::to_string(headDim));
  if (t.strides[3] != 1)
    return Status::invalid(
        n + ".strides[3] is " + std::to_string(t.strides[3]) +
        "; the head dimension must be contiguous (stride 1)");
  // The kernels move 16-byte chunks: every row must start 16-byte aligned.
  for (int i = 0; i < 3; ++i)
    if (t.strides[i] < 0 || t.strides[i] % 8 != 0)
      return Status::invalid(n + ".strides[" + std::to_string(i) + "] is " +
                             std::to_string(t.strides[i]) +
                             "; strides must be non-negative multiples of 8 "
                             "elements (16 bytes)");
  if (uintptr_t(t.data) % 16 != 0)
    return Status::invalid(n + ".data is not 16-byte aligned");
  return checkDevicePointer(context, (n + ".data").c_str(), t.data,
                            extentBytes(t.shape, t.strides, 4, 2));
}

} // namespace sattn
