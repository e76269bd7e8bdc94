//===- Compiler.h - A variant to PTX and a manifest, in process -*- C++ -*-===//
//
// The one entry point that the tools and the runtime JIT share: builds the
// module for a variant (`sattn.attention` on tensors of the problem's shape),
// runs sattn-expand and the kernel instantiation, writes the manifest from
// the instantiated kernels' signatures, then lowers the kernels to PTX with
// the upstream NVVM pipeline, all in this process.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_COMPILER_H
#define SATTN_COMPILER_COMPILER_H

#include "compiler/Manifest.h"
#include "compiler/TuningParams.h"
#include "dialect/VariantParams.h"

#include "llvm/Support/Error.h"

#include <string>

namespace sattn {

struct CompileOptions {
  /// "sm_80" or "sm_90a" ("auto" must be resolved by the caller, who knows
  /// whether there is a GPU).
  std::string arch = "sm_80";
  int optLevel = 3;
  /// The template and its tile parameters (the autotuner's knobs).
  TuningParams tuning;
  /// Read q, k, v and write the output through the token order (pools and
  /// attention kernel) instead of reorder/unreorder passes over them.
  bool fuseReorder = true;
};

struct CompileResult {
  std::string ptx;
  Manifest manifest;
  /// The stage-level module with its kernels as gpu.funcs, before lowering.
  std::string mlir;
  /// Milliseconds spent expanding + instantiating, and lowering to PTX.
  double expandMs = 0, lowerMs = 0;
};

/// Compiles a valid variant. Failures (an unsupported arch, a pass that
/// fails) come back as an llvm::Error whose message holds the diagnostics.
llvm::Expected<CompileResult> compileVariant(const VariantParams &variant,
                                             const CompileOptions &options);

} // namespace sattn

#endif // SATTN_COMPILER_COMPILER_H
