//===- CudaApiTest.cpp - runtime/CudaApi.h against cuda.h -----------------===//
//
// The runtime declares the driver API itself so that it builds without the
// CUDA Toolkit; where cuda.h exists, every value and signature must agree.
//
//===----------------------------------------------------------------------===//

#include "runtime/CudaApi.h"

#include <cuda.h>
#include <gtest/gtest.h>

#include <tuple>
#include <type_traits>

namespace cu = sattn::cu;

// The runtime's enums and cuda.h's are different types with equal values.
#define SATTN_SAME_VALUE(ours, theirs)                                         \
  static_assert(int(ours) == int(theirs), #theirs)

static_assert(sizeof(cu::DevicePtr) == sizeof(CUdeviceptr));
static_assert(std::is_same_v<cu::Device, CUdevice>);
SATTN_SAME_VALUE(cu::kSuccess, CUDA_SUCCESS);
SATTN_SAME_VALUE(cu::kErrorInvalidValue, CUDA_ERROR_INVALID_VALUE);
SATTN_SAME_VALUE(cu::kErrorOutOfMemory, CUDA_ERROR_OUT_OF_MEMORY);
SATTN_SAME_VALUE(cu::kErrorNoDevice, CUDA_ERROR_NO_DEVICE);
SATTN_SAME_VALUE(cu::kMultiprocessorCount,
                 CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
SATTN_SAME_VALUE(cu::kComputeCapabilityMajor,
                 CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
SATTN_SAME_VALUE(cu::kComputeCapabilityMinor,
                 CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
SATTN_SAME_VALUE(cu::kMaxSharedMemoryPerBlockOptin,
                 CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
SATTN_SAME_VALUE(cu::kMaxThreadsPerBlock,
                 CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
SATTN_SAME_VALUE(cu::kSharedSizeBytes, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES);
SATTN_SAME_VALUE(cu::kLocalSizeBytes, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES);
SATTN_SAME_VALUE(cu::kNumRegs, CU_FUNC_ATTRIBUTE_NUM_REGS);
SATTN_SAME_VALUE(cu::kMaxDynamicSharedSizeBytes,
                 CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
SATTN_SAME_VALUE(cu::kJitSplitCompile, CU_JIT_SPLIT_COMPILE);
SATTN_SAME_VALUE(cu::kTensorMapFloat16, CU_TENSOR_MAP_DATA_TYPE_FLOAT16);
SATTN_SAME_VALUE(cu::kTensorMapBFloat16, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16);
SATTN_SAME_VALUE(cu::kTensorMapSwizzleNone, CU_TENSOR_MAP_SWIZZLE_NONE);
SATTN_SAME_VALUE(cu::kTensorMapSwizzle32B, CU_TENSOR_MAP_SWIZZLE_32B);
SATTN_SAME_VALUE(cu::kTensorMapSwizzle64B, CU_TENSOR_MAP_SWIZZLE_64B);
SATTN_SAME_VALUE(cu::kTensorMapSwizzle128B, CU_TENSOR_MAP_SWIZZLE_128B);
SATTN_SAME_VALUE(cu::kTensorMapInterleaveNone, CU_TENSOR_MAP_INTERLEAVE_NONE);
SATTN_SAME_VALUE(cu::kTensorMapL2Promotion256B,
                 CU_TENSOR_MAP_L2_PROMOTION_L2_256B);
SATTN_SAME_VALUE(cu::kTensorMapOobFillNone, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
static_assert(sizeof(cu::TensorMap) == sizeof(CUtensorMap));
static_assert(alignof(cu::TensorMap) == alignof(CUtensorMap));
SATTN_SAME_VALUE(cu::kJitInfoLogBuffer, CU_JIT_INFO_LOG_BUFFER);
SATTN_SAME_VALUE(cu::kJitInfoLogBufferSizeBytes,
                 CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES);
SATTN_SAME_VALUE(cu::kJitErrorLogBuffer, CU_JIT_ERROR_LOG_BUFFER);
SATTN_SAME_VALUE(cu::kJitErrorLogBufferSizeBytes,
                 CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
SATTN_SAME_VALUE(cu::kJitInputPtx, CU_JIT_INPUT_PTX);
SATTN_SAME_VALUE(cu::kPointerMemoryType, CU_POINTER_ATTRIBUTE_MEMORY_TYPE);
SATTN_SAME_VALUE(cu::kPointerDeviceOrdinal,
                 CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL);
SATTN_SAME_VALUE(cu::kMemoryHost, CU_MEMORYTYPE_HOST);
SATTN_SAME_VALUE(cu::kMemoryDevice, CU_MEMORYTYPE_DEVICE);
SATTN_SAME_VALUE(cu::kMemoryArray, CU_MEMORYTYPE_ARRAY);
SATTN_SAME_VALUE(cu::kMemoryUnified, CU_MEMORYTYPE_UNIFIED);

// The parameters of the calls whose parameters are not enums are exactly
// cuda.h's; results are CUresult, an enum with int's ABI, in the runtime int.
template <typename F> struct Parameters;
template <typename R, typename... A> struct Parameters<R (*)(A...)> {
  using type = std::tuple<A...>;
  static_assert(sizeof(R) == sizeof(int));
};
static_assert(std::is_same_v<cu::Context, CUcontext>);
static_assert(std::is_same_v<cu::Module, CUmodule>);
static_assert(std::is_same_v<cu::Function, CUfunction>);
static_assert(std::is_same_v<cu::Stream, CUstream>);
static_assert(std::is_same_v<cu::Event, CUevent>);
static_assert(std::is_same_v<cu::DevicePtr, CUdeviceptr>);
static_assert(std::is_same_v<cu::LinkState, CUlinkState>);
// The linker's enum parameters (CUjit_option *, CUjitInputType) are ints in
// the runtime: the same ABI, checked by size.
static_assert(sizeof(CUjit_option) == sizeof(int) &&
              sizeof(CUjitInputType) == sizeof(int));
#define SATTN_SAME_SIGNATURE(ours, theirs)                                     \
  static_assert(std::is_same_v<Parameters<ours>::type,                         \
                               Parameters<decltype(&theirs)>::type>,           \
                #theirs)
SATTN_SAME_SIGNATURE(cu::InitFn, cuInit);
SATTN_SAME_SIGNATURE(cu::DriverGetVersionFn, cuDriverGetVersion);
SATTN_SAME_SIGNATURE(cu::DeviceGetCountFn, cuDeviceGetCount);
SATTN_SAME_SIGNATURE(cu::DeviceGetFn, cuDeviceGet);
SATTN_SAME_SIGNATURE(cu::DeviceGetNameFn, cuDeviceGetName);
SATTN_SAME_SIGNATURE(cu::DevicePrimaryCtxRetainFn, cuDevicePrimaryCtxRetain);
SATTN_SAME_SIGNATURE(cu::DevicePrimaryCtxReleaseFn,
                     cuDevicePrimaryCtxRelease_v2);
SATTN_SAME_SIGNATURE(cu::CtxSetCurrentFn, cuCtxSetCurrent);
SATTN_SAME_SIGNATURE(cu::CtxGetCurrentFn, cuCtxGetCurrent);
SATTN_SAME_SIGNATURE(cu::CtxSynchronizeFn, cuCtxSynchronize);
SATTN_SAME_SIGNATURE(cu::ModuleLoadDataFn, cuModuleLoadData);

// The linker's calls take enums (CUjit_option *, CUjitInputType) where the
// runtime has ints of the same size: equal once those are mapped.
template <typename T> struct IntAbi { using type = T; };
template <> struct IntAbi<CUjit_option *> { using type = int *; };
template <> struct IntAbi<CUjitInputType> { using type = int; };
template <typename F> struct IntAbiParameters;
template <typename R, typename... A> struct IntAbiParameters<R (*)(A...)> {
  using type = std::tuple<typename IntAbi<A>::type...>;
};
#define SATTN_SAME_INT_ABI(ours, theirs)                                       \
  static_assert(std::is_same_v<Parameters<ours>::type,                         \
                               IntAbiParameters<decltype(&theirs)>::type>,     \
                #theirs)
SATTN_SAME_INT_ABI(cu::LinkCreateFn, cuLinkCreate_v2);
SATTN_SAME_INT_ABI(cu::LinkAddDataFn, cuLinkAddData_v2);
SATTN_SAME_SIGNATURE(cu::LinkCompleteFn, cuLinkComplete);
SATTN_SAME_SIGNATURE(cu::LinkDestroyFn, cuLinkDestroy);
SATTN_SAME_SIGNATURE(cu::ModuleUnloadFn, cuModuleUnload);
SATTN_SAME_SIGNATURE(cu::ModuleGetFunctionFn, cuModuleGetFunction);
SATTN_SAME_SIGNATURE(cu::LaunchKernelFn, cuLaunchKernel);
SATTN_SAME_SIGNATURE(cu::MemAllocFn, cuMemAlloc_v2);
SATTN_SAME_SIGNATURE(cu::MemFreeFn, cuMemFree_v2);
SATTN_SAME_SIGNATURE(cu::MemcpyHtoDFn, cuMemcpyHtoD_v2);
SATTN_SAME_SIGNATURE(cu::MemcpyDtoHFn, cuMemcpyDtoH_v2);
SATTN_SAME_SIGNATURE(cu::MemsetD8Fn, cuMemsetD8_v2);
SATTN_SAME_SIGNATURE(cu::MemGetInfoFn, cuMemGetInfo_v2);
SATTN_SAME_SIGNATURE(cu::MemGetAddressRangeFn, cuMemGetAddressRange_v2);
SATTN_SAME_SIGNATURE(cu::StreamCreateFn, cuStreamCreate);
SATTN_SAME_SIGNATURE(cu::StreamDestroyFn, cuStreamDestroy_v2);
SATTN_SAME_SIGNATURE(cu::StreamSynchronizeFn, cuStreamSynchronize);
SATTN_SAME_SIGNATURE(cu::EventCreateFn, cuEventCreate);
SATTN_SAME_SIGNATURE(cu::EventDestroyFn, cuEventDestroy_v2);
SATTN_SAME_SIGNATURE(cu::EventRecordFn, cuEventRecord);
SATTN_SAME_SIGNATURE(cu::EventSynchronizeFn, cuEventSynchronize);
SATTN_SAME_SIGNATURE(cu::EventElapsedTimeFn, cuEventElapsedTime_v2);

TEST(CudaApi, DeclarationsMatchCudaH) {
  // Checked at compile time; this test exists so that ctest lists the check.
  EXPECT_EQ(cu::kNumRegs, CU_FUNC_ATTRIBUTE_NUM_REGS);
}
