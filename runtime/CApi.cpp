//===- CApi.cpp - The C API over the C++ runtime --------------------------===//
//
// No exception and no abort crosses this boundary: every entry point turns
// failures into a status and the calling thread's last error.
//
//===----------------------------------------------------------------------===//

#include "runtime/sattn.h"

#include "runtime/Context.h"
#include "runtime/KernelModule.h"
#include "runtime/SparseAttention.h"

#include <new>

struct sattn_context {
  std::unique_ptr<sattn::Context> impl;
};

struct sattn_kernels {
  std::unique_ptr<sattn::KernelModule> impl;
};

namespace {

using sattn::Status;

/// Runs `body` and publishes its status; exceptions become statuses too.
template <typename Body> sattn_status guarded(Body &&body) {
  try {
    return sattn::publish(body());
  } catch (const std::bad_alloc &) {
    return sattn::publish(
        Status::error(SATTN_ERROR_OUT_OF_MEMORY, "out of host memory"));
  } catch (const std::exception &e) {
    return sattn::publish(Status::error(SATTN_ERROR_INTERNAL, e.what()));
  } catch (...) {
    return sattn::publish(
        Status::error(SATTN_ERROR_INTERNAL, "unknown internal error"));
  }
}

} // namespace

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
    std::unique_ptr<sattn::KernelModule> module;
    SATTN_RETURN_IF_ERROR(
        sattn::KernelModule::load(*context->impl, manifest_path, module));
    *out = new sattn_kernels{std::move(module)};
    return Status::ok();
  });
}

void sattn_kernels_destroy(sattn_kernels *kernels) { delete kernels; }

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
