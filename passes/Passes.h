//===- Passes.h - sattn passes and pipelines -------------------*- C++ -*-===//

#ifndef SATTN_PASSES_PASSES_H
#define SATTN_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

#include <memory>
#include <string>

namespace sattn {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Options of the `sattn-to-ptx` pipeline.
struct ToPTXOptions : public mlir::PassPipelineOptions<ToPTXOptions> {
  Option<std::string> arch{*this, "arch", llvm::cl::desc("sm_80 or sm_90a"),
                           llvm::cl::init("sm_80")};
  Option<int> optLevel{*this, "opt-level",
                       llvm::cl::desc("LLVM optimization level of the NVPTX "
                                      "back end"),
                       llvm::cl::init(3)};
  Option<bool> fuseReorder{*this, "fuse-reorder",
                           llvm::cl::desc("read q, k, v and write the output "
                                          "through the token order "
                                          "(sattn-fuse-reorder)"),
                           llvm::cl::init(true)};
};

/// What buildToKernelsPipeline does: the target and the tile options of
/// sattn-instantiate-kernels, and whether sattn-fuse-reorder runs.
struct ToKernelsOptions {
  std::string arch = "sm_80";
  std::string attentionTemplate = "auto";
  int64_t keyTile = 0, stages = 2, warpRows = 0;
  bool persistent = false;
  /// Read q, k, v and write the output through the token order instead of
  /// permuted copies (sattn-fuse-reorder).
  bool fuseReorder = true;
};

/// Expand (+ fuse the reorders) + instantiate: the stage ops with their
/// kernels as gpu.funcs.
void buildToKernelsPipeline(mlir::OpPassManager &pm,
                            const ToKernelsOptions &options);
/// Lowers every gpu.module to NVVM and then to a gpu.binary holding PTX text
/// (the upstream GPU -> NVVM -> LLVM NVPTX passes, applied to the kernels
/// only: the host side stays sattn ops on tensors).
void buildKernelsToPTXPipeline(mlir::OpPassManager &pm, llvm::StringRef arch,
                               int optLevel);
/// `sattn-to-ptx`: both of the above.
void buildToPTXPipeline(mlir::OpPassManager &pm, const ToPTXOptions &options);

/// The PTX ISA version to ask the NVPTX back end for. sm_90a needs at least
/// PTX 8.0; asking for less is a fatal error inside LLVM.
llvm::StringRef ptxFeaturesFor(llvm::StringRef arch);
/// Whether `arch` is one sattn compiles for.
bool isSupportedArch(llvm::StringRef arch);

/// Registers the `sattn-to-ptx` and `sattn-kernels-to-ptx` pipelines with the
/// global registry (registerSattnPasses(), generated, registers the passes).
void registerSattnPipelines();

} // namespace sattn

#endif // SATTN_PASSES_PASSES_H
