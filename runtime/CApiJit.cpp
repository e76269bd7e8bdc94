//===- CApiJit.cpp - The C API's in-process compiler entry points ---------===//
//
// sattn_compile and sattn_kernels_compile: the compiler linked into the
// runtime library (no subprocess), with the kernel cache in front of it.
// Only libsattn.so has these; the runtime archive (SattnRuntime) stays free
// of MLIR for the tools that only load kernels.
//
//===----------------------------------------------------------------------===//

#include "runtime/sattn.h"

#include "dialect/VariantJson.h"
#include "runtime/CApiObjects.h"
#include "runtime/Jit.h"

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

/// The kernels of `variant` loaded on the context's GPU, with what
/// sattn_kernels_describe reports: sattn_kernels_compile and
/// sattn_plan_create both come here.
Status kernelsForContext(const sattn::Context &context,
                         const sattn::VariantParams &variant,
                         std::unique_ptr<sattn_kernels> &out) {
  auto start = std::chrono::steady_clock::now();
  sattn::GpuTarget gpu;
  gpu.arch = context.arch();
  gpu.name = context.device().name;
  gpu.ordinal = context.device().ordinal;
  gpu.driverVersion = context.device().driverVersion;
  sattn::GpuKernels prepared;
  SATTN_RETURN_IF_ERROR(sattn::compileForGpu(variant, gpu, prepared));
  auto kernels = std::make_unique<sattn_kernels>();
  auto loadStart = std::chrono::steady_clock::now();
  sattn::CubinOptions cubin;
  cubin.ptxHash = prepared.jit.ptxHash;
  SATTN_RETURN_IF_ERROR(sattn::KernelModule::load(
      context, prepared.jit.ptx, std::move(prepared.jit.manifest),
      kernels->impl, cubin));
  kernels->loadMs = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - loadStart)
                        .count();
  kernels->arch = prepared.arch;
  kernels->fromCache = prepared.jit.cacheHit;
  kernels->cacheNote = std::move(prepared.jit.cacheNote);
  sattn::addCacheNote(kernels->cacheNote, kernels->impl->cubinNote());
  kernels->tuning = std::move(prepared.tuning);
  kernels->prepareMs = std::chrono::duration<double, std::milli>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  out = std::move(kernels);
  return Status::ok();
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
    options.compile.fuseReorder = sattn::fuseReorderFromEnvironment();
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
    sattn::VariantParams variant;
    SATTN_RETURN_IF_ERROR(
        parseVariant(variant_json, "sattn_kernels_compile", variant));
    std::unique_ptr<sattn_kernels> kernels;
    SATTN_RETURN_IF_ERROR(kernelsForContext(*context->impl, variant, kernels));
    *out = kernels.release();
    return Status::ok();
  });
}

sattn_status sattn_plan_create(sattn_context *context,
                               const char *variant_json, sattn_plan **out) {
  return guarded([&] {
    if (!out)
      return Status::invalid("sattn_plan_create: out is null");
    *out = nullptr;
    // The variant first: what it asks for is refused the same way with or
    // without a GPU.
    sattn::VariantParams variant;
    SATTN_RETURN_IF_ERROR(
        parseVariant(variant_json, "sattn_plan_create", variant));
    SATTN_RETURN_IF_ERROR(sattn::checkPlannable(variant));
    if (!context)
      return Status::invalid("sattn_plan_create: context is null");
    std::unique_ptr<sattn_kernels> kernels;
    SATTN_RETURN_IF_ERROR(kernelsForContext(*context->impl, variant, kernels));
    auto plan = std::make_unique<sattn_plan>();
    auto setupStart = std::chrono::steady_clock::now();
    SATTN_RETURN_IF_ERROR(
        sattn::Plan::create(std::move(kernels->impl), plan->impl));
    plan->setupMs = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - setupStart)
                        .count();
    plan->kernels = std::move(kernels); // what sattn_plan_describe reports
    *out = plan.release();
    return Status::ok();
  });
}

} // extern "C"
