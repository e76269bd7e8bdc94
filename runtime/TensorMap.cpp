//===- TensorMap.cpp - TMA tensor maps of the attention kernel ------------===//

#include "runtime/TensorMap.h"

#include "runtime/CudaDriver.h"

namespace sattn {

std::string tensorMapProblem(const TensorMapRequest &r) {
  auto text = [](int64_t v) { return std::to_string(v); };
  const int64_t elementBytes = 2;
  if (r.address % 16 != 0)
    return r.what + ": the address is not 16-byte aligned (TMA loads need it)";
  static const char *dims[] = {"batch", "head", "token", "head_dim"};
  for (int i = 0; i < 4; ++i)
    if (r.shape[i] < 1 || r.shape[i] > (int64_t(1) << 32))
      return r.what + ": " + dims[i] + " size " + text(r.shape[i]) +
             " (TMA takes 1 to 2^32)";
  for (int i = 0; i < 3; ++i)
    if (r.strides[i] < 0 || (r.strides[i] * elementBytes) % 16 != 0 ||
        r.strides[i] * elementBytes >= (int64_t(1) << 40))
      return r.what + ": " + dims[i] + " stride " + text(r.strides[i]) +
             " elements (TMA needs a multiple of 16 bytes, below 2^40)";
  if (r.swizzle != 0 && r.swizzle != 32 && r.swizzle != 64 && r.swizzle != 128)
    return r.what + ": swizzle " + text(r.swizzle) +
           " (allowed: 0, 32, 64, 128 bytes)";
  int64_t span = r.swizzle ? r.swizzle : 256;
  if (r.box[0] < 1 || r.box[0] > r.shape[3] ||
      r.box[0] * elementBytes > span || (r.box[0] * elementBytes) % 16 != 0)
    return r.what + ": a box of " + text(r.box[0]) + " columns at head_dim " +
           text(r.shape[3]) + " with a " + text(r.swizzle) +
           "-byte swizzle (TMA takes whole 16-byte chunks within the span)";
  if (r.box[1] < 1 || r.box[1] > 256)
    return r.what + ": a box of " + text(r.box[1]) +
           " rows (TMA takes 1 to 256)";
  return "";
}

TensorMapRequest tensorMapRequest(const ManifestParam &param, bool bf16,
                                  uint64_t address,
                                  const std::array<int64_t, 4> &shape,
                                  const std::array<int64_t, 3> &strides) {
  TensorMapRequest r;
  r.what = param.buffer.empty() ? param.name : param.buffer;
  r.address = address;
  r.shape = shape;
  r.strides = strides;
  r.bf16 = bf16;
  r.box = param.box;
  r.swizzle = param.swizzle;
  return r;
}

TensorMapEncoder driverTensorMapEncoder(const CudaDriver &driver) {
  return [&driver](const TensorMapRequest &r, cu::TensorMap &map) -> Status {
    if (std::string problem = tensorMapProblem(r); !problem.empty())
      return Status::invalid(problem);
    if (!driver.tensorMapEncodeTiled)
      return Status::error(SATTN_ERROR_CUDA,
                           "the CUDA driver has no cuTensorMapEncodeTiled "
                           "(driver older than CUDA 12?)");
    // Dimensions from the innermost: D, S, H, B; strides of the outer three
    // in bytes; one box row of S per TMA row, 1 of H and B.
    unsigned long long dims[4] = {
        (unsigned long long)r.shape[3], (unsigned long long)r.shape[2],
        (unsigned long long)r.shape[1], (unsigned long long)r.shape[0]};
    unsigned long long strides[3] = {(unsigned long long)r.strides[2] * 2,
                                     (unsigned long long)r.strides[1] * 2,
                                     (unsigned long long)r.strides[0] * 2};
    unsigned box[4] = {unsigned(r.box[0]), unsigned(r.box[1]), 1, 1};
    unsigned elementStrides[4] = {1, 1, 1, 1};
    int swizzle = r.swizzle == 128  ? cu::kTensorMapSwizzle128B
                  : r.swizzle == 64 ? cu::kTensorMapSwizzle64B
                  : r.swizzle == 32 ? cu::kTensorMapSwizzle32B
                                    : cu::kTensorMapSwizzleNone;
    cu::Result result = driver.tensorMapEncodeTiled(
        &map, r.bf16 ? cu::kTensorMapBFloat16 : cu::kTensorMapFloat16, 4,
        reinterpret_cast<void *>(r.address), dims, strides, box,
        elementStrides, cu::kTensorMapInterleaveNone, swizzle,
        cu::kTensorMapL2Promotion256B, cu::kTensorMapOobFillNone);
    if (result != cu::kSuccess)
      return Status::error(SATTN_ERROR_CUDA,
                           r.what + ": " +
                               driver.describe("cuTensorMapEncodeTiled",
                                               result));
    return Status::ok();
  };
}

} // namespace sattn
