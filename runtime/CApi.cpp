//===- CApi.cpp - The C API over the C++ runtime --------------------------===//
//
// No exception and no abort crosses this boundary: every entry point turns
// failures into a status and the calling thread's last error.
//
//===----------------------------------------------------------------------===//

#include "runtime/sattn.h"

#include "runtime/CApiObjects.h"
#include "runtime/SparseAttention.h"

#include <chrono>

using sattn::guarded;
using sattn::Status;

extern "C" {

const char *sattn_status_name(sattn_status status) {
  switch (status) {
  case SATTN_OK:
    return "SATTN_OK";
  case SATTN_ERROR_INVALID_ARGUMENT:
    return "SATTN_ERROR_INVALID_ARGUMENT";
  case SATTN_ERROR_NO_DRIVER:
    return "SATTN_ERROR_NO_DRIVER";
  case SATTN_ERROR_NO_DEVICE:
    return "SATTN_ERROR_NO_DEVICE";
  case SATTN_ERROR_CUDA:
    return "SATTN_ERROR_CUDA";
  case SATTN_ERROR_OUT_OF_MEMORY:
    return "SATTN_ERROR_OUT_OF_MEMORY";
  case SATTN_ERROR_IO:
    return "SATTN_ERROR_IO";
  case SATTN_ERROR_INVALID_KERNELS:
    return "SATTN_ERROR_INVALID_KERNELS";
  case SATTN_ERROR_INTERNAL:
    return "SATTN_ERROR_INTERNAL";
  case SATTN_ERROR_INVALID_VARIANT:
    return "SATTN_ERROR_INVALID_VARIANT";
  }
  return "SATTN_ERROR_UNKNOWN";
}

const char *sattn_last_error(void) { return sattn::lastErrorMessage(); }

sattn_status sattn_context_create(int device, sattn_context **out) {
  return guarded([&] {
    if (!out)
      return Status::invalid("sattn_context_create: out is null");
    *out = nullptr;
    std::unique_ptr<sattn::Context> context;
    SATTN_RETURN_IF_ERROR(sattn::Context::create(device, context));
    *out = new sattn_context{std::move(context)};
    return Status::ok();
  });
}

void sattn_context_destroy(sattn_context *context) { delete context; }

sattn_status sattn_kernels_load(sattn_context *context,
                                const char *manifest_path,
                                sattn_kernels **out) {
  return guarded([&] {
    if (!out)
      return Status::invalid("sattn_kernels_load: out is null");
    *out = nullptr;
    if (!context || !manifest_path)
      return Status::invalid("sattn_kernels_load: context and manifest_path "
                             "must not be null");
    auto start = std::chrono::steady_clock::now();
    auto kernels = std::make_unique<sattn_kernels>();
    SATTN_RETURN_IF_ERROR(sattn::KernelModule::load(
        *context->impl, manifest_path, kernels->impl));
    kernels->arch = kernels->impl->manifest().arch;
    kernels->tuning = "as compiled by sattnc";
    kernels->cacheNote = kernels->impl->cubinNote();
    kernels->prepareMs = std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - start)
                             .count();
    kernels->loadMs = kernels->prepareMs; // reading the files and loading
    *out = kernels.release();
    return Status::ok();
  });
}

void sattn_kernels_destroy(sattn_kernels *kernels) { delete kernels; }

sattn_status sattn_kernels_describe(const sattn_kernels *kernels,
                                    sattn_kernels_info *out) {
  return guarded([&] {
    if (!kernels || !out)
      return Status::invalid(
          "sattn_kernels_describe: kernels and out must not be null");
    *out = sattn::describeKernels(*kernels, *kernels->impl);
    return Status::ok();
  });
}

sattn_status
sattn_sparse_attention(sattn_kernels *kernels, const sattn_tensor *q,
                       const sattn_tensor *k, const sattn_tensor *v,
                       const sattn_tensor *out, const sattn_block_mask *mask,
                       float *lse, void *stream) {
  return guarded([&] {
    if (!kernels || !q || !k || !v || !out || !mask)
      return Status::invalid("sattn_sparse_attention: kernels, q, k, v, out "
                             "and mask must not be null");
    return sattn::runSparseAttention(*kernels->impl, *q, *k, *v, *out, *mask,
                                     lse,
                                     static_cast<sattn::cu::Stream>(stream));
  });
}

} // extern "C"
