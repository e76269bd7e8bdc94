//===- CudaDriver.cpp - libcuda.so.1, opened with dlopen ------------------===//

#include "runtime/CudaDriver.h"

#include <dlfcn.h>
#include <mutex>

namespace sattn {

const CudaDriver *CudaDriver::get(std::string *error) {
  static CudaDriver driver;
  static std::string loadError;
  static std::once_flag once;
  std::call_once(once, [] {
    void *library = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char *why = ::dlerror();
      loadError =
          std::string("no CUDA driver: libcuda.so.1 cannot be loaded (") +
          (why ? why : "unknown reason") + ")";
      return;
    }
    bool complete = true;
    auto bind = [&](auto &fn, const char *symbol) {
      fn = reinterpret_cast<std::decay_t<decltype(fn)>>(
          ::dlsym(library, symbol));
      if (!fn) {
        complete = false;
        loadError = std::string("the CUDA driver lacks ") + symbol +
                    " (driver too old?)";
      }
    };
    bind(driver.init, "cuInit");
    bind(driver.driverGetVersion, "cuDriverGetVersion");
    bind(driver.deviceGetCount, "cuDeviceGetCount");
    bind(driver.deviceGet, "cuDeviceGet");
    bind(driver.deviceGetName, "cuDeviceGetName");
    bind(driver.deviceGetAttribute, "cuDeviceGetAttribute");
    bind(driver.getErrorString, "cuGetErrorString");
    bind(driver.getErrorName, "cuGetErrorName");
    // Versioned names are the ones cuda.h maps the plain names to.
    bind(driver.devicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    bind(driver.devicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    bind(driver.ctxSetCurrent, "cuCtxSetCurrent");
    bind(driver.ctxGetCurrent, "cuCtxGetCurrent");
    bind(driver.ctxSynchronize, "cuCtxSynchronize");
    bind(driver.moduleLoadDataEx, "cuModuleLoadDataEx");
    bind(driver.moduleLoadData, "cuModuleLoadData");
    bind(driver.linkCreate, "cuLinkCreate_v2");
    bind(driver.linkAddData, "cuLinkAddData_v2");
    bind(driver.linkComplete, "cuLinkComplete");
    bind(driver.linkDestroy, "cuLinkDestroy");
    bind(driver.moduleUnload, "cuModuleUnload");
    bind(driver.moduleGetFunction, "cuModuleGetFunction");
    bind(driver.funcSetAttribute, "cuFuncSetAttribute");
    bind(driver.funcGetAttribute, "cuFuncGetAttribute");
    bind(driver.launchKernel, "cuLaunchKernel");
    bind(driver.tensorMapEncodeTiled, "cuTensorMapEncodeTiled");
    bind(driver.memAlloc, "cuMemAlloc_v2");
    bind(driver.memFree, "cuMemFree_v2");
    bind(driver.memcpyHtoD, "cuMemcpyHtoD_v2");
    bind(driver.memcpyDtoH, "cuMemcpyDtoH_v2");
    bind(driver.memsetD8, "cuMemsetD8_v2");
    bind(driver.memGetInfo, "cuMemGetInfo_v2");
    bind(driver.memGetAddressRange, "cuMemGetAddressRange_v2");
    bind(driver.streamCreate, "cuStreamCreate");
    bind(driver.streamDestroy, "cuStreamDestroy_v2");
    bind(driver.streamSynchronize, "cuStreamSynchronize");
    bind(driver.eventCreate, "cuEventCreate");
    bind(driver.eventDestroy, "cuEventDestroy_v2");
    bind(driver.eventRecord, "cuEventRecord");
    bind(driver.eventSynchronize, "cuEventSynchronize");
    bind(driver.pointerGetAttribute, "cuPointerGetAttribute");
    // cuEventElapsedTime_v2 came with CUDA 12.8; older drivers have only the
    // first version, with the same signature.
    driver.eventElapsedTime = reinterpret_cast<cu::EventElapsedTimeFn>(
        ::dlsym(library, "cuEventElapsedTime_v2"));
    if (!driver.eventElapsedTime)
      bind(driver.eventElapsedTime, "cuEventElapsedTime");
    if (!complete)
      return;
    if (cu::Result r = driver.init(0); r != cu::kSuccess) {
      loadError = driver.describe("cuInit", r);
      return;
    }
    loadError.clear();
  });
  if (!loadError.empty() || !driver.init) {
    if (error)
      *error = loadError;
    return nullptr;
  }
  return &driver;
}

std::string CudaDriver::describe(const char *call, cu::Result result) const {
  const char *name = nullptr, *text = nullptr;
  if (getErrorName)
    getErrorName(result, &name);
  if (getErrorString)
    getErrorString(result, &text);
  return std::string(call) +
         " failed: " + (name ? name : "CUDA error " + std::to_string(result)) +
         (text ? std::string(" (") + text + ")" : std::string());
}

std::optional<DeviceInfo> queryDevice(int ordinal, std::string *error) {
  const CudaDriver *cuda = CudaDriver::get(error);
  if (!cuda)
    return std::nullopt;
  auto check = [&](const char *call, cu::Result r) {
    if (r != cu::kSuccess && error)
      *error = cuda->describe(call, r);
    return r == cu::kSuccess;
  };
  int count = 0;
  if (!check("cuDeviceGetCount", cuda->deviceGetCount(&count)))
    return std::nullopt;
  if (ordinal < 0 || ordinal >= count) {
    if (error)
      *error = "no GPU " + std::to_string(ordinal) + ": the driver sees " +
               std::to_string(count) + " device(s)";
    return std::nullopt;
  }
  DeviceInfo info;
  info.ordinal = ordinal;
  cu::Device device;
  char name[256] = {0};
  if (!check("cuDeviceGet", cuda->deviceGet(&device, ordinal)) ||
      !check("cuDeviceGetName",
             cuda->deviceGetName(name, sizeof name - 1, device)) ||
      !check("cuDeviceGetAttribute",
             cuda->deviceGetAttribute(&info.computeMajor,
                                      cu::kComputeCapabilityMajor, device)) ||
      !check("cuDeviceGetAttribute",
             cuda->deviceGetAttribute(&info.computeMinor,
                                      cu::kComputeCapabilityMinor, device)) ||
      !check("cuDeviceGetAttribute",
             cuda->deviceGetAttribute(&info.multiprocessors,
                                      cu::kMultiprocessorCount, device)) ||
      !check("cuDeviceGetAttribute",
             cuda->deviceGetAttribute(&info.maxSharedPerBlock,
                                      cu::kMaxSharedMemoryPerBlockOptin,
                                      device)) ||
      !check("cuDriverGetVersion", cuda->driverGetVersion(&info.driverVersion)))
    return std::nullopt;
  info.name = name;
  return info;
}

std::string archForDevice(const DeviceInfo &device, std::string *error) {
  if (device.computeMajor == 9 && device.computeMinor == 0)
    return "sm_90a";
  if (device.computeMajor >= 8)
    return "sm_80";
  if (error)
    *error = device.name + " has compute capability " +
             std::to_string(device.computeMajor) + "." +
             std::to_string(device.computeMinor) +
             "; sattn needs 8.0 or newer (tensor-core mma.sync, cp.async)";
  return "";
}

} // namespace sattn
