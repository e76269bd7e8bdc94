//===- CApiObjects.h - The C API's opaque objects and its guard -*- C++ -*-===//
//
// Shared by the translation units that implement runtime/sattn.h: the
// runtime's (CApi.cpp) and the JIT's (CApiJit.cpp, which needs the compiler
// and is only in libsattn.so).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_CAPIOBJECTS_H
#define SATTN_RUNTIME_CAPIOBJECTS_H

#include "runtime/Context.h"
#include "runtime/KernelModule.h"
#include "runtime/Plan.h"
#include "runtime/sattn.h"

#include <exception>
#include <memory>
#include <new>
#include <string>

struct sattn_context {
  std::unique_ptr<sattn::Context> impl;
};

struct sattn_kernels {
  std::unique_ptr<sattn::KernelModule> impl;
  // What sattn_kernels_describe reports.
  std::string arch;
  bool fromCache = false;
  double prepareMs = 0, loadMs = 0;
  std::string cacheNote;
  std::string tuning;
};

struct sattn_plan {
  std::unique_ptr<sattn::Plan> impl;
  /// How its kernels came to be (its `impl` moved into the plan).
  std::unique_ptr<sattn_kernels> kernels;
  /// Plan::create's time: workspace and constant tables.
  double setupMs = 0;
};

namespace sattn {

/// Appends `line` to a "; "-separated cache note.
inline void addCacheNote(std::string &note, const std::string &line) {
  if (!line.empty())
    note += (note.empty() ? "" : "; ") + line;
}

/// sattn_kernels_info of kernels described by `meta` and loaded as `module`.
inline sattn_kernels_info describeKernels(const sattn_kernels &meta,
                                          const KernelModule &module) {
  sattn_kernels_info info = sattn_kernels_info();
  info.arch = meta.arch.c_str();
  info.from_cache = meta.fromCache;
  info.prepare_ms = meta.prepareMs;
  info.load_ms = meta.loadMs;
  info.cache_note = meta.cacheNote.c_str();
  info.tuning = meta.tuning.c_str();
  info.cubin = toString(module.cubinSource());
  if (const auto *kernel = module.find("sparse_attention")) {
    info.registers = kernel->registers;
    info.local_bytes = kernel->localBytes;
    info.shared_bytes = static_cast<int>(kernel->info->dynamicSharedMemory);
  }
  return info;
}

/// Runs `body` and publishes its status as the calling thread's last error;
/// exceptions become statuses too, so none crosses the C API.
template <typename Body> sattn_status guarded(Body &&body) {
  try {
    return publish(body());
  } catch (const std::bad_alloc &) {
    return publish(
        Status::error(SATTN_ERROR_OUT_OF_MEMORY, "out of host memory"));
  } catch (const std::exception &e) {
    return publish(Status::error(SATTN_ERROR_INTERNAL, e.what()));
  } catch (...) {
    return publish(
        Status::error(SATTN_ERROR_INTERNAL, "unknown internal error"));
  }
}

} // namespace sattn

#endif // SATTN_RUNTIME_CAPIOBJECTS_H
