//===- Status.cpp - Outcomes of runtime calls -----------------------------===//

#include "runtime/Status.h"

#include "runtime/CudaDriver.h"

namespace sattn {

Status checkCuda(const CudaDriver &cuda, const char *call, cu::Result result) {
  if (result == cu::kSuccess)
    return Status::ok();
  sattn_status code = result == cu::kErrorOutOfMemory
                          ? SATTN_ERROR_OUT_OF_MEMORY
                          : SATTN_ERROR_CUDA;
  return Status::error(code, cuda.describe(call, result));
}

static thread_local std::string lastError;

sattn_status publish(const Status &status) {
  lastError = status.message();
  return status.code();
}

const char *lastErrorMessage() { return lastError.c_str(); }

} // namespace sattn
