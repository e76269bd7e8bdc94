//===- Context.h - A GPU and its primary CUDA context -----------*- C++ -*-===//

#ifndef SATTN_RUNTIME_CONTEXT_H
#define SATTN_RUNTIME_CONTEXT_H

#include "runtime/CudaDriver.h"
#include "runtime/Status.h"

#include <memory>

namespace sattn {

class Context {
public:
  /// Opens GPU `ordinal`: no driver, no such device or a device older than
  /// compute capability 8.0 come back as a status, never a crash.
  static Status create(int ordinal, std::unique_ptr<Context> &out);
  ~Context();
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;

  /// Makes the primary context current on the calling thread.
  Status makeCurrent() const;

  const CudaDriver &cuda() const { return *cuda_; }
  const DeviceInfo &device() const { return info_; }
  /// The sattn target of this GPU: "sm_90a" or "sm_80".
  const std::string &arch() const { return arch_; }

private:
  Context() = default;
  const CudaDriver *cuda_ = nullptr;
  DeviceInfo info_;
  std::string arch_;
  cu::Device device_ = 0;
  cu::Context context_ = nullptr;
};

} // namespace sattn

#endif // SATTN_RUNTIME_CONTEXT_H
