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
};

/// Expand + instantiate: the stage ops with their kernels as gpu.funcs.
/// The tile options are those of sattn-instantiate-kernels.
void buildToKernelsPipeline(mlir::OpPassManager &pm, llvm::StringRef arch,
                            llvm::StringRef attentionTemplate = "auto",
                            int64_t keyTile = 0, int64_t stages = 2,
                            int64_t warpRows = 0);
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
