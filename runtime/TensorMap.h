//===- TensorMap.h - TMA tensor maps of the attention kernel ----*- C++ -*-===//
//
// The warp-specialized Hopper kernel loads its K and V tiles with TMA, which
// reads a tensor map (CUtensorMap, 128 bytes) passed by value among the
// kernel's parameters (manifest role "tensor_map"). The map holds the
// tensor's address, so the runtime encodes it on the host for every call
// whose tensor is the caller's, and once at plan creation for a workspace
// tensor. Encoding is a host-only driver call (cuTensorMapEncodeTiled, about
// a microsecond): no GPU work, no allocation.
//
// The checks here come first and say in sattn's words what is wrong (the
// driver's CUDA_ERROR_INVALID_VALUE does not); LaunchProgram takes the
// encoder as a function so that it stays testable without a driver.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_TENSORMAP_H
#define SATTN_RUNTIME_TENSORMAP_H

#include "compiler/Manifest.h"
#include "runtime/CudaApi.h"
#include "runtime/Status.h"

#include <array>
#include <cstdint>
#include <functional>
#include <string>

namespace sattn {

class CudaDriver;

/// A tensor map over a [B, H, S, D] tensor (head_dim contiguous), as the
/// attention kernel's manifest parameter describes it.
struct TensorMapRequest {
  std::string what;  // for messages: "k" or the buffer's name
  uint64_t address = 0;
  std::array<int64_t, 4> shape{0, 0, 0, 0};   // B, H, S, D
  std::array<int64_t, 3> strides{0, 0, 0};    // B, H, S, in elements
  bool bf16 = true;                           // else fp16
  std::array<int64_t, 2> box{0, 0};           // D columns, S rows
  int64_t swizzle = 0;                        // bytes: 0, 32, 64, 128
};

/// Fills `map` for `request`, or says why it cannot.
using TensorMapEncoder =
    std::function<Status(const TensorMapRequest &request, cu::TensorMap &map)>;

/// What TMA cannot take, in one line naming the field; empty when it can:
/// the address 16-byte aligned, the strides multiples of 16 bytes, every
/// dimension in [1, 2^32], the box within the tensor's last dimension and at
/// most 256 rows, its width no more than the swizzle span.
std::string tensorMapProblem(const TensorMapRequest &request);

/// The driver's encoder (cuTensorMapEncodeTiled), after tensorMapProblem.
TensorMapEncoder driverTensorMapEncoder(const CudaDriver &driver);

/// The request for tensor-map parameter `param` of a [B, H, S, D] tensor.
TensorMapRequest tensorMapRequest(const ManifestParam &param, bool bf16,
                                  uint64_t address,
                                  const std::array<int64_t, 4> &shape,
                                  const std::array<int64_t, 3> &strides);

} // namespace sattn

#endif // SATTN_RUNTIME_TENSORMAP_H
