//===- Jit.h - Kernels from the cache or compiled ---------------*- C++ -*-===//
//
// The runtime's JIT: the compiler is linked in (no subprocess); each
// compilation is stored in the kernel cache under the exact key, and a later
// request for the same key loads the stored PTX and manifest instead.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_JIT_H
#define SATTN_RUNTIME_JIT_H

#include "compiler/Compiler.h"
#include "compiler/Manifest.h"
#include "runtime/Status.h"

#include <functional>
#include <string>

namespace sattn {

struct JitOptions {
  /// The compile options; `arch` must be resolved ("sm_80" or "sm_90a").
  CompileOptions compile;
  int driverVersion = 0;
  /// Cache folder; empty: the default (KernelCache). `useCache` false:
  /// compile every time and store nothing.
  std::string cacheFolder;
  bool useCache = true;
};

struct JitResult {
  std::string ptx;
  Manifest manifest;
  bool cacheHit = false;
  double milliseconds = 0; // to load, or to compile and store
  /// What went wrong with the cache, if anything (the kernels are fine):
  /// a corrupt entry that was rebuilt, or an entry that could not be stored.
  std::string cacheNote;
};

/// Runs `body` (which calls into MLIR/LLVM) with LLVM's fatal errors turned
/// into a SATTN_ERROR_INTERNAL status instead of the end of the process.
Status guardFatalErrors(const std::function<Status()> &body);

/// The kernels of `variant` for `options`. Fails only when the variant does
/// not compile; cache trouble is reported in `cacheNote` (and, for a corrupt
/// entry, once per process on stderr).
Status compileWithCache(const VariantParams &variant, const JitOptions &options,
                        JitResult &out);

} // namespace sattn

#endif // SATTN_RUNTIME_JIT_H
