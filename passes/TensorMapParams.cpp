//===- TensorMapParams.cpp - TMA tensor maps as by-value parameters -------===//
//
// upstream's GPU-to-NVVM lowering drops `llvm.byval` from gpu.func
// arguments and NVVM refuses `nvvm.grid_constant` on anything but an
// `llvm.func` kernel, so the templates mark the tensor-map arguments with a
// function attribute (`sattn.tensor_maps`, argument indices) and this pass
// sets the argument attributes once the kernel is an `llvm.func`.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;

namespace sattn {

#define GEN_PASS_DEF_SATTNTENSORMAPPARAMS
#include "passes/Passes.h.inc"

namespace {

/// The size and alignment of a CUtensorMap (cuda.h: CU_TENSOR_MAP_NUM_QWORDS
/// = 16, aligned to 64 bytes).
constexpr int64_t kTensorMapBytes = 128;
constexpr int64_t kTensorMapAlign = 64;

struct TensorMapParams
    : public impl::SattnTensorMapParamsBase<TensorMapParams> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    Builder b(ctx);
    Type bytes =
        LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), kTensorMapBytes);
    WalkResult result = getOperation().walk([&](LLVM::LLVMFuncOp func) {
      auto maps = func->getAttrOfType<DenseI64ArrayAttr>("sattn.tensor_maps");
      if (!maps)
        return WalkResult::advance();
      for (int64_t i : maps.asArrayRef()) {
        if (i < 0 || i >= int64_t(func.getNumArguments()) ||
            !isa<LLVM::LLVMPointerType>(func.getArgumentTypes()[i])) {
          func.emitError("sattn.tensor_maps names argument ")
              << i << ", which is not a pointer argument";
          return WalkResult::interrupt();
        }
        func.setArgAttr(i, LLVM::LLVMDialect::getByValAttrName(),
                        TypeAttr::get(bytes));
        func.setArgAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                        b.getI64IntegerAttr(kTensorMapAlign));
        func.setArgAttr(i, NVVM::NVVMDialect::getGridConstantAttrName(),
                        b.getUnitAttr());
      }
      func->removeAttr("sattn.tensor_maps");
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
} // namespace sattn
