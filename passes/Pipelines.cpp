//===- Pipelines.cpp - sattn-to-ptx and pass registration
//------------------===//
//
// The device half of upstream's gpu-lower-to-nvvm-pipeline, applied to the
// gpu.modules only: the host side of a sattn module is stage ops on tensors,
// which the upstream host passes (func-to-llvm, gpu-to-llvm) cannot lower and
// which the runtime executes from the manifest instead.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/NVGPUToNVVM/NVGPUToNVVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/OptimizeForNVVM.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace sattn {

bool isSupportedArch(StringRef arch) {
  return arch == "sm_80" || arch == "sm_90a";
}

StringRef ptxFeaturesFor(StringRef arch) {
  // PTX ISA 8.0 (CUDA 12.0) has everything both targets use, including
  // wgmma and TMA for sm_90a; drivers from 525 on load it.
  (void)arch;
  return "+ptx80";
}

void buildToKernelsPipeline(OpPassManager &pm,
                            const ToKernelsOptions &options) {
  pm.addPass(createSattnExpand());
  if (options.fuseReorder)
    pm.addPass(createSattnFuseReorder());
  SattnInstantiateKernelsOptions instantiate;
  instantiate.arch = options.arch;
  instantiate.attentionTemplate = options.attentionTemplate;
  instantiate.keyTile = options.keyTile;
  instantiate.stages = options.stages;
  instantiate.warpRows = options.warpRows;
  instantiate.persistent = options.persistent;
  pm.addPass(createSattnInstantiateKernels(instantiate));
}

void buildKernelsToPTXPipeline(OpPassManager &pm, StringRef arch,
                               int optLevel) {
  GpuNVVMAttachTargetOptions target;
  target.chip = arch.str();
  target.features = ptxFeaturesFor(arch).str();
  target.optLevel = optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));

  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createConvertNVGPUToNVVMPass());
  kernels.addPass(createConvertVectorToSCFPass());
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(createConvertNVVMToLLVMPass());
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createArithToLLVMConversionPass());
  kernels.addPass(createConvertIndexToLLVMPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createSattnTensorMapParams());
  kernels.addPass(LLVM::createNVVMOptimizeForTargetPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());

  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa"; // PTX text
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void buildToPTXPipeline(OpPassManager &pm, const ToPTXOptions &options) {
  ToKernelsOptions kernels;
  kernels.arch = options.arch;
  kernels.fuseReorder = options.fuseReorder;
  buildToKernelsPipeline(pm, kernels);
  buildKernelsToPTXPipeline(pm, options.arch, options.optLevel);
}

void registerSattnPipelines() {
  PassPipelineRegistration<ToPTXOptions>(
      "sattn-to-ptx",
      "Expand sattn.attention, instantiate its kernels from the templates "
      "and lower them to PTX (gpu.binary with PTX text)",
      buildToPTXPipeline);
  PassPipelineRegistration<ToPTXOptions>(
      "sattn-kernels-to-ptx",
      "Lower the gpu.modules of a module to PTX, leaving the host side alone",
      [](OpPassManager &pm, const ToPTXOptions &options) {
        buildKernelsToPTXPipeline(pm, options.arch, options.optLevel);
      });
}

} // namespace sattn
