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

#include <cstdint>
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
  /// fnv1a(ptx) (Files.h): the cubin cache's name for this PTX.
  uint64_t ptxHash = 0;
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

/// Whether the pipeline reads q, k, v through the token order
/// (CompileOptions::fuseReorder): yes unless SATTN_FUSE_REORDER is "0",
/// which asks for separate reorder and unreorder kernels (for measuring the
/// two forms against each other: bench/plan_bench.py --separate-reorder).
bool fuseReorderFromEnvironment();

/// The GPU kernels are prepared for: what compileForGpu needs to know of a
/// context (plain values, so that it is tested without a GPU).
struct GpuTarget {
  std::string arch; // the GPU's own sattn target: "sm_80" or "sm_90a"
  std::string name; // "NVIDIA H100 80GB HBM3"
  int ordinal = 0;
  int driverVersion = 0;
};

struct GpuKernels {
  JitResult jit;
  std::string arch;   // what the kernels were compiled for
  std::string tuning; // "tuned (...)" or "defaults (why)"
};

/// The kernels of `variant` for `gpu`, as sattn_kernels_compile and
/// sattn_plan_create get them: the arch from target.arch ("auto": the
/// GPU's; sm_90a on a GPU that is not sm_90 is SATTN_ERROR_INVALID_VARIANT),
/// the tile parameters from the tuning database (or the defaults), then
/// compileWithCache with the default cache folder.
Status compileForGpu(const VariantParams &variant, const GpuTarget &gpu,
                     GpuKernels &out);

} // namespace sattn

#endif // SATTN_RUNTIME_JIT_H
