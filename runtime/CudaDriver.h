//===- CudaDriver.h - libcuda.so.1, opened with dlopen ----------*- C++ -*-===//
//
// Every sattn binary starts on a machine without a GPU or driver; only the
// calls that need one fail, with a message that says what is missing.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_CUDADRIVER_H
#define SATTN_RUNTIME_CUDADRIVER_H

#include "runtime/CudaApi.h"

#include <optional>
#include <string>

namespace sattn {

class CudaDriver {
public:
  /// The process-wide driver, loaded and initialized (cuInit) on first use.
  /// Null when there is no usable driver; `error` then says why.
  static const CudaDriver *get(std::string *error);
  /// A table with no entry point set: tests fill in stand-ins for the calls
  /// they exercise.
  static CudaDriver empty() { return CudaDriver(); }

  /// "cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device ...)"
  std::string describe(const char *call, cu::Result result) const;

  cu::InitFn init = nullptr;
  cu::DriverGetVersionFn driverGetVersion = nullptr;
  cu::DeviceGetCountFn deviceGetCount = nullptr;
  cu::DeviceGetFn deviceGet = nullptr;
  cu::DeviceGetNameFn deviceGetName = nullptr;
  cu::DeviceGetAttributeFn deviceGetAttribute = nullptr;
  cu::GetErrorStringFn getErrorString = nullptr;
  cu::GetErrorStringFn getErrorName = nullptr;
  cu::DevicePrimaryCtxRetainFn devicePrimaryCtxRetain = nullptr;
  cu::DevicePrimaryCtxReleaseFn devicePrimaryCtxRelease = nullptr;
  cu::CtxSetCurrentFn ctxSetCurrent = nullptr;
  cu::CtxGetCurrentFn ctxGetCurrent = nullptr;
  cu::CtxSynchronizeFn ctxSynchronize = nullptr;
  cu::ModuleLoadDataExFn moduleLoadDataEx = nullptr;
  cu::ModuleLoadDataFn moduleLoadData = nullptr;
  cu::LinkCreateFn linkCreate = nullptr;
  cu::LinkAddDataFn linkAddData = nullptr;
  cu::LinkCompleteFn linkComplete = nullptr;
  cu::LinkDestroyFn linkDestroy = nullptr;
  cu::ModuleUnloadFn moduleUnload = nullptr;
  cu::ModuleGetFunctionFn moduleGetFunction = nullptr;
  cu::FuncSetAttributeFn funcSetAttribute = nullptr;
  cu::FuncGetAttributeFn funcGetAttribute = nullptr;
  cu::LaunchKernelFn launchKernel = nullptr;
  cu::MemAllocFn memAlloc = nullptr;
  cu::MemFreeFn memFree = nullptr;
  cu::MemcpyHtoDFn memcpyHtoD = nullptr;
  cu::MemcpyDtoHFn memcpyDtoH = nullptr;
  cu::MemsetD8Fn memsetD8 = nullptr;
  cu::MemGetInfoFn memGetInfo = nullptr;
  cu::MemGetAddressRangeFn memGetAddressRange = nullptr;
  cu::StreamCreateFn streamCreate = nullptr;
  cu::StreamDestroyFn streamDestroy = nullptr;
  cu::StreamSynchronizeFn streamSynchronize = nullptr;
  cu::EventCreateFn eventCreate = nullptr;
  cu::EventDestroyFn eventDestroy = nullptr;
  cu::EventRecordFn eventRecord = nullptr;
  cu::EventSynchronizeFn eventSynchronize = nullptr;
  cu::EventElapsedTimeFn eventElapsedTime = nullptr;
  cu::PointerGetAttributeFn pointerGetAttribute = nullptr;
  cu::TensorMapEncodeTiledFn tensorMapEncodeTiled = nullptr;

private:
  CudaDriver() = default;
};

/// A GPU as the driver describes it.
struct DeviceInfo {
  std::string name;
  int ordinal = 0;
  int computeMajor = 0, computeMinor = 0;
  int driverVersion = 0; // e.g. 13000
  int multiprocessors = 0;
  int maxSharedPerBlock = 0; // opt-in maximum, bytes
};

/// Describes device `ordinal`, or says why it cannot (no driver, no device).
std::optional<DeviceInfo> queryDevice(int ordinal, std::string *error);

/// The sattn target for a device: sm_90a on sm_90 parts (Hopper); sm_80 on
/// any other part from compute capability 8.0 (its PTX is JIT-compiled
/// forward); empty, with `error` set, for older parts.
std::string archForDevice(const DeviceInfo &device, std::string *error);

} // namespace sattn

#endif // SATTN_RUNTIME_CUDADRIVER_H
