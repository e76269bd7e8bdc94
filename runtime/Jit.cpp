//===- Jit.cpp - Kernels for a variant: from the cache or compiled --------===//

#include "runtime/Jit.h"

#include "compiler/Version.h"
#include "dialect/VariantJson.h"
#include "runtime/Files.h"
#include "runtime/KernelCache.h"
#include "runtime/TuningDb.h"

#include "llvm/Support/ErrorHandling.h"

#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <stdexcept>

namespace sattn {
namespace {

CacheKey keyFor(const VariantParams &variant, const JitOptions &options) {
  const CompileOptions &c = options.compile;
  CacheKey key;
  key.variant = writeVariantJson(variant, /*indent=*/-1);
  key.tuning = c.tuning.text() + " opt=" + std::to_string(c.optLevel) +
               (c.fuseReorder ? "" : " reorder=separate");
  key.arch = c.arch;
  key.driverVersion = options.driverVersion;
  key.compiler = SATTN_COMPILER_VERSION;
  return key;
}

/// What LLVM's fatal-error handler throws instead of letting LLVM exit the
/// process: a JIT inside someone's engine must never take it down
/// (TOOLCHAIN.md, trap 1). The frames it unwinds through are LLVM's, built
/// without exceptions: their destructors do not run, so the failed
/// compilation's memory may leak, but the process lives and the next
/// compilation starts from a fresh MLIRContext.
struct FatalCompilerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void throwOnFatalError(void *, const char *reason, bool) {
  throw FatalCompilerError(reason);
}

} // namespace

Status guardFatalErrors(const std::function<Status()> &body) {
  static std::once_flag installed;
  std::call_once(installed,
                 [] { llvm::install_fatal_error_handler(throwOnFatalError); });
  try {
    return body();
  } catch (const FatalCompilerError &e) {
    return Status::error(SATTN_ERROR_INTERNAL,
                         std::string("the compiler hit a fatal error: ") +
                             e.what());
  }
}

Status compileWithCache(const VariantParams &variant, const JitOptions &options,
                        JitResult &out) {
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now() - start)
        .count();
  };
  out = JitResult();
  KernelCache cache(options.cacheFolder);
  CacheKey key = keyFor(variant, options);
  if (options.useCache) {
    std::string problem;
    if (std::optional<CacheEntry> entry = cache.load(key, &problem)) {
      std::string error;
      if (parseManifestJson(entry->manifest, out.manifest, error)) {
        out.ptx = std::move(entry->ptx);
        out.ptxHash = entry->ptxHash;
        out.cacheHit = true;
        out.milliseconds = elapsed();
        return Status::ok();
      }
      problem = cache.pathFor(key) + ": manifest " + error + "; rebuilt";
    }
    if (!problem.empty()) {
      reportCacheProblemOnce(problem);
      out.cacheNote = problem;
    }
  }

  std::optional<llvm::Expected<CompileResult>> result;
  SATTN_RETURN_IF_ERROR(guardFatalErrors([&] {
    result.emplace(compileVariant(variant, options.compile));
    return Status::ok();
  }));
  llvm::Expected<CompileResult> &compiled = *result;
  if (!compiled) {
    std::string message = llvm::toString(compiled.takeError());
    for (char &c : message)
      if (c == '\n')
        c = ' ';
    return Status::error(SATTN_ERROR_INVALID_VARIANT,
                         "variant " + variant.name + ": " + message);
  }
  out.ptx = std::move(compiled->ptx);
  out.manifest = std::move(compiled->manifest);
  out.ptxHash = fnv1a(out.ptx);
  if (options.useCache) {
    std::string error;
    if (!cache.store(key, {out.ptx, writeManifestJson(out.manifest)}, &error))
      out.cacheNote = error + " (the kernels were compiled and work; they "
                              "will be compiled again next time)";
  }
  out.milliseconds = elapsed();
  return Status::ok();
}

bool fuseReorderFromEnvironment() {
  const char *fuse = std::getenv("SATTN_FUSE_REORDER");
  return !fuse || std::string(fuse) != "0";
}

Status compileForGpu(const VariantParams &variant, const GpuTarget &gpu,
                     GpuKernels &out) {
  out = GpuKernels();
  std::string arch = variant.target.arch == Arch::Auto
                         ? gpu.arch
                         : std::string(toString(variant.target.arch));
  if (arch == "sm_90a" && gpu.arch != "sm_90a")
    return Status::error(SATTN_ERROR_INVALID_VARIANT,
                         "variant " + variant.name +
                             ": target.arch is sm_90a but GPU " +
                             std::to_string(gpu.ordinal) + " (" + gpu.name +
                             ") is not an sm_90 part");
  JitOptions options;
  options.compile.arch = arch;
  options.compile.fuseReorder = fuseReorderFromEnvironment();
  options.driverVersion = gpu.driverVersion;
  options.compile.tuning = chooseTuning(
      defaultTuningDbPath(),
      tuningKeyFor(variant, variant.selection.density, gpu.name,
                   options.driverVersion, SATTN_COMPILER_VERSION),
      &out.tuning);
  out.arch = arch;
  return compileWithCache(variant, options, out.jit);
}

} // namespace sattn
