//===- CudaApi.h - The CUDA driver API subset sattn calls -------*- C++ -*-===//
//
// Declared here rather than taken from cuda.h so that the runtime builds on
// machines without the CUDA Toolkit; the values are the driver API's own
// (stable across CUDA versions). When cuda.h is present, a test checks these
// declarations against it (test/unit/CudaApiTest.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_CUDAAPI_H
#define SATTN_RUNTIME_CUDAAPI_H

namespace sattn::cu {

using Result = int; // CUresult
using Device = int; // CUdevice

constexpr Result kSuccess = 0;        // CUDA_SUCCESS
constexpr Result kErrorNoDevice = 100; // CUDA_ERROR_NO_DEVICE

enum DeviceAttribute : int {
  kComputeCapabilityMajor = 75, // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
  kComputeCapabilityMinor = 76, // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
};

using InitFn = Result (*)(unsigned flags);
using DriverGetVersionFn = Result (*)(int *version);
using DeviceGetCountFn = Result (*)(int *count);
using DeviceGetFn = Result (*)(Device *device, int ordinal);
using DeviceGetNameFn = Result (*)(char *name, int length, Device device);
using DeviceGetAttributeFn = Result (*)(int *value, int attribute,
                                        Device device);
using GetErrorStringFn = Result (*)(Result error, const char **text);

} // namespace sattn::cu

#endif // SATTN_RUNTIME_CUDAAPI_H
