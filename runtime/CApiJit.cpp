//===- CApiJit.cpp - The C API's in-process compiler entry points ---------===//
//
// sattn_compile and sattn_kernels_compile: the compiler linked into the
// runtime library (no subprocess), with the kernel cache in front of it.
// Only libsattn.so has these; the runtime archive (SattnRuntime) stays free
// of MLIR for the tools that only load kernels.
//
//===----------------------------------------------------------------------===//

#include "runtime/sattn.h"

#include "compiler/Version.h"
#include "dialect/VariantJson.h"
#include "runtime/CApiObjects.h"
#include "runtime/Jit.h"
#include "runtime/TuningDb.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

using sattn::guarded;
using sattn::Status;

namespace {

Status parseVariant(const char *json, const char *caller,
                    sattn::VariantParams &out) {
  if (!json)
    return Status::invalid(std::string(caller) + ": variant_json is null");
  sattn::VariantResult parsed = sattn::parseVariantJson(json);
  if (!parsed)
    return Status::error(SATTN_ERROR_INVALID_VARIANT,
                         std::string(caller) + ": " + parsed.issue.str());
  out = std::move(*parsed.variant);
  return Status::ok();
}

/// A malloc'ed copy that sattn_free releases.
char *copyOut(const std::string &text) {
  char *copy = static_cast<char *>(std::malloc(text.size() + 1));
  if (!copy)
    throw std::bad_alloc();
  std::memcpy(copy, text.data(), text.size() + 1);
  return copy;
}

} // namespace

extern "C" {

sattn_status sattn_compile(const char *variant_json, const char *arch,
                           char **ptx, char **manifest_json) {
  return guarded([&] {
    if (!ptx || !manifest_json)
      return Status::invalid(
          "sattn_compile: ptx and manifest_json must not be null");
    *ptx = *manifest_json = nullptr;
    sattn::VariantParams variant;
    SATTN_RETURN_IF_ERROR(parseVariant(variant_json, "sattn_compile", variant));
    std::string target = arch && std::strcmp(arch, "auto") != 0
                             ? std::string(arch)
                             : std::string(toString(variant.target.arch));
    if (target == "auto")
      target = "sm_80";
    if (!sattn::parseEnum<sattn::Arch>(target))
      return Status::invalid("sattn_compile: arch \"" + target +
                             "\" is not one of " +
                             sattn::enumSpellings<sattn::Arch>());
    sattn::JitOptions options;
    options.compile.arch = target;
    options.useCache = false;
    sattn::JitResult result;
    SATTN_RETURN_IF_ERROR(sattn::compileWithCache(variant, options, result));
    char *ptxCopy = copyOut(result.ptx);
    try {
      *manifest_json = copyOut(sattn::writeManifestJson(result.manifest));
    } catch (...) {
      std::free(ptxCopy);
      throw;
    }
    *ptx = ptxCopy;
    return Status::ok();
  });
}

void sattn_free(void *memory) { std::free(memory); }

sattn_status sattn_kernels_compile(sattn_context *context,
                                   const char *variant_json,
                                   sattn_kernels **out) {
  return guarded([&] {
    if (!out)
      return Status::invalid("sattn_kernels_compile: out is null");
    *out = nullptr;
    if (!context)
      return Status::invalid("sattn_kernels_compile: context is null");
    auto start = std::chrono::steady_clock::now();
    sattn::VariantParams variant;
    SATTN_RETURN_IF_ERROR(
        parseVariant(variant_json, "sattn_kernels_compile", variant));
    const sattn::Context &ctx = *context->impl;
    std::string arch = variant.target.arch == sattn::Arch::Auto
                           ? ctx.arch()
                           : std::string(toString(variant.target.arch));
    if (arch == "sm_90a" && ctx.arch() != "sm_90a")
      return Status::error(SATTN_ERROR_INVALID_VARIANT,
                           "variant " + variant.name +
                               ": target.arch is sm_90a but GPU " +
                               std::to_string(ctx.device().ordinal) + " (" +
                               ctx.device().name + ") is not an sm_90 part");

    sattn::JitOptions options;
    options.compile.arch = arch;
    options.driverVersion = ctx.device().driverVersion;
    std::string tuning;
    options.compile.tuning = sattn::chooseTuning(
        sattn::defaultTuningDbPath(),
        sattn::tuningKeyFor(variant, variant.selection.density,
                            ctx.device().name, options.driverVersion,
                            SATTN_COMPILER_VERSION),
        &tuning);
    sattn::JitResult result;
    SATTN_RETURN_IF_ERROR(sattn::compileWithCache(variant, options, result));
    auto kernels = std::make_unique<sattn_kernels>();
    SATTN_RETURN_IF_ERROR(sattn::KernelModule::load(
        ctx, result.ptx, std::move(result.manifest), kernels->impl));
    kernels->arch = arch;
    kernels->fromCache = result.cacheHit;
    kernels->cacheNote = std::move(result.cacheNote);
    kernels->tuning = std::move(tuning);
    kernels->prepareMs = std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - start)
                             .count();
    *out = kernels.release();
    return Status::ok();
  });
}

} // extern "C"
