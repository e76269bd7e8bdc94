//===- CudaApi.h - The CUDA driver API subset sattn calls -------*- C++ -*-===//
//
// Declared here rather than taken from cuda.h so that the runtime builds on
// machines without the CUDA Toolkit; the values are the driver API's own
// (stable across CUDA versions). When cuda.h is present, a unit test checks
// every declaration here against it (test/unit/CudaApiTest.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_CUDAAPI_H
#define SATTN_RUNTIME_CUDAAPI_H

#include <cstddef>
#include <cstdint>

// The driver's opaque handle types, with cuda.h's own tags (global), so that
// the pointers are the same types as CUcontext, CUmodule, ...
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;
struct CUlinkState_st;

namespace sattn::cu {

using Result = int;                   // CUresult
using Device = int;                   // CUdevice
using DevicePtr = unsigned long long; // CUdeviceptr
using Context = ::CUctx_st *;
using Module = ::CUmod_st *;
using Function = ::CUfunc_st *;
using Stream = ::CUstream_st *;
using Event = ::CUevent_st *;
using LinkState = ::CUlinkState_st *;

constexpr Result kSuccess = 0;           // CUDA_SUCCESS
constexpr Result kErrorInvalidValue = 1; // CUDA_ERROR_INVALID_VALUE
constexpr Result kErrorOutOfMemory = 2;  // CUDA_ERROR_OUT_OF_MEMORY
constexpr Result kErrorNoDevice = 100;   // CUDA_ERROR_NO_DEVICE

enum DeviceAttribute : int {
  kMultiprocessorCount = 16,    // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
  kComputeCapabilityMajor = 75, // ..._COMPUTE_CAPABILITY_MAJOR
  kComputeCapabilityMinor = 76, // ..._COMPUTE_CAPABILITY_MINOR
  kMaxSharedMemoryPerBlockOptin = 97, // ..._MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
};

enum FunctionAttribute : int {
  kMaxThreadsPerBlock = 0, // CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK
  kSharedSizeBytes = 1,    // CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES
  kLocalSizeBytes = 3,     // CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES
  kNumRegs = 4,            // CU_FUNC_ATTRIBUTE_NUM_REGS
  kMaxDynamicSharedSizeBytes =
      8, // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
};

enum JitOption : int {
  kJitInfoLogBuffer = 3,           // CU_JIT_INFO_LOG_BUFFER
  kJitInfoLogBufferSizeBytes = 4,  // CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES
  kJitErrorLogBuffer = 5,          // CU_JIT_ERROR_LOG_BUFFER
  kJitErrorLogBufferSizeBytes = 6, // CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES
  kJitSplitCompile = 34,           // CU_JIT_SPLIT_COMPILE
};

enum JitInputType : int {
  kJitInputPtx = 1, // CU_JIT_INPUT_PTX
};

enum PointerAttribute : int {
  kPointerMemoryType = 2,    // CU_POINTER_ATTRIBUTE_MEMORY_TYPE
  kPointerDeviceOrdinal = 9, // CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL
};

enum MemoryType : unsigned {
  kMemoryHost = 1,    // CU_MEMORYTYPE_HOST
  kMemoryDevice = 2,  // CU_MEMORYTYPE_DEVICE
  kMemoryArray = 3,   // CU_MEMORYTYPE_ARRAY
  kMemoryUnified = 4, // CU_MEMORYTYPE_UNIFIED
};

/// CUtensorMap: 128 opaque bytes (cuda.h aligns it to 128; the kernel
/// parameter needs 64).
struct alignas(128) TensorMap {
  unsigned long long words[16];
};

enum TensorMapDataType : int {
  kTensorMapFloat16 = 6,  // CU_TENSOR_MAP_DATA_TYPE_FLOAT16
  kTensorMapBFloat16 = 9, // CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
};

enum TensorMapSwizzle : int {
  kTensorMapSwizzleNone = 0, // CU_TENSOR_MAP_SWIZZLE_NONE
  kTensorMapSwizzle32B = 1,  // CU_TENSOR_MAP_SWIZZLE_32B
  kTensorMapSwizzle64B = 2,  // CU_TENSOR_MAP_SWIZZLE_64B
  kTensorMapSwizzle128B = 3, // CU_TENSOR_MAP_SWIZZLE_128B
};

constexpr int kTensorMapInterleaveNone = 0;  // CU_TENSOR_MAP_INTERLEAVE_NONE
constexpr int kTensorMapL2Promotion256B = 3; // ..._L2_PROMOTION_L2_256B
constexpr int kTensorMapOobFillNone = 0;     // ..._FLOAT_OOB_FILL_NONE (zeros)

using InitFn = Result (*)(unsigned flags);
using DriverGetVersionFn = Result (*)(int *version);
using DeviceGetCountFn = Result (*)(int *count);
using DeviceGetFn = Result (*)(Device *device, int ordinal);
using DeviceGetNameFn = Result (*)(char *name, int length, Device device);
using DeviceGetAttributeFn = Result (*)(int *value, int attribute,
                                        Device device);
using GetErrorStringFn = Result (*)(Result error, const char **text);
using DevicePrimaryCtxRetainFn = Result (*)(Context *context, Device device);
using DevicePrimaryCtxReleaseFn = Result (*)(Device device);
using CtxSetCurrentFn = Result (*)(Context context);
using CtxGetCurrentFn = Result (*)(Context *context);
using CtxSynchronizeFn = Result (*)();
using ModuleLoadDataExFn = Result (*)(Module *module, const void *image,
                                      unsigned numOptions, int *options,
                                      void **optionValues);
using ModuleLoadDataFn = Result (*)(Module *module, const void *image);
using LinkCreateFn = Result (*)(unsigned numOptions, int *options,
                                void **optionValues, LinkState *state);
using LinkAddDataFn = Result (*)(LinkState state, int type, void *data,
                                 size_t size, const char *name,
                                 unsigned numOptions, int *options,
                                 void **optionValues);
using LinkCompleteFn = Result (*)(LinkState state, void **cubin, size_t *size);
using LinkDestroyFn = Result (*)(LinkState state);
using ModuleUnloadFn = Result (*)(Module module);
using ModuleGetFunctionFn = Result (*)(Function *function, Module module,
                                       const char *name);
using FuncSetAttributeFn = Result (*)(Function function, int attribute,
                                      int value);
using FuncGetAttributeFn = Result (*)(int *value, int attribute,
                                      Function function);
using LaunchKernelFn = Result (*)(Function function, unsigned gridX,
                                  unsigned gridY, unsigned gridZ,
                                  unsigned blockX, unsigned blockY,
                                  unsigned blockZ, unsigned sharedBytes,
                                  Stream stream, void **params, void **extra);
using MemAllocFn = Result (*)(DevicePtr *pointer, size_t bytes);
using MemFreeFn = Result (*)(DevicePtr pointer);
using MemcpyHtoDFn = Result (*)(DevicePtr dst, const void *src, size_t bytes);
using MemcpyDtoHFn = Result (*)(void *dst, DevicePtr src, size_t bytes);
using MemsetD8Fn = Result (*)(DevicePtr dst, unsigned char value, size_t count);
using MemGetInfoFn = Result (*)(size_t *free, size_t *total);
using MemGetAddressRangeFn = Result (*)(DevicePtr *base, size_t *size,
                                        DevicePtr pointer);
using StreamCreateFn = Result (*)(Stream *stream, unsigned flags);
using StreamDestroyFn = Result (*)(Stream stream);
using StreamSynchronizeFn = Result (*)(Stream stream);
using EventCreateFn = Result (*)(Event *event, unsigned flags);
using EventDestroyFn = Result (*)(Event event);
using EventRecordFn = Result (*)(Event event, Stream stream);
using EventSynchronizeFn = Result (*)(Event event);
using EventElapsedTimeFn = Result (*)(float *ms, Event start, Event end);
using TensorMapEncodeTiledFn = Result (*)(
    TensorMap *map, int dataType, unsigned rank, void *globalAddress,
    const unsigned long long *globalDim,
    const unsigned long long *globalStrides, const unsigned *boxDim,
    const unsigned *elementStrides, int interleave, int swizzle,
    int l2Promotion, int oobFill);
using PointerGetAttributeFn = Result (*)(void *data, int attribute,
                                         DevicePtr pointer);

} // namespace sattn::cu

#endif // SATTN_RUNTIME_CUDAAPI_H
