//===- InstantiateKernels.cpp - Stage ops -> gpu.funcs from templates -----===//

#include "dialect/SattnOps.h"
#include "passes/Passes.h"
#include "templates/SparseAttentionMma.h"
#include "templates/SparseAttentionSimt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

namespace sattn {
#define GEN_PASS_DEF_SATTNINSTANTIATEKERNELS
#include "passes/Passes.h.inc"
} // namespace sattn

using namespace mlir;

namespace sattn {
namespace {

constexpr StringLiteral kKernelModule = "sattn_kernels";

/// Launch shape and scalar arguments recorded on a kernel for the manifest.
void recordLaunch(gpu::GPUFuncOp func, StringRef stage, ArrayRef<int64_t> grid,
                  ArrayRef<StringRef> gridFormula,
                  int64_t dynamicSharedMemory) {
  Builder b(func.getContext());
  func->setAttr("sattn.stage", b.getStringAttr(stage));
  func->setAttr("sattn.grid", b.getDenseI64ArrayAttr(grid));
  func->setAttr("sattn.grid_formula", b.getStrArrayAttr(gridFormula));
  func->setAttr("sattn.dynamic_smem", b.getI64IntegerAttr(dynamicSharedMemory));
}

/// Where a buffer parameter's pointer comes from: an operand or a result of
/// the stage op, by position (the same value may be passed twice).
struct BufferSource {
  bool isResult;
  unsigned index;
};

/// Records on each buffer parameter of `func` the stage op's operand or
/// result it is bound to, for the manifest's buffer bindings.
void bindBuffers(gpu::GPUFuncOp func,
                 const llvm::StringMap<BufferSource> &sources) {
  Builder b(func.getContext());
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    auto param = func.getArgAttrOfType<DictionaryAttr>(i, "sattn.param");
    if (param.getAs<StringAttr>("role").getValue() != "buffer")
      continue;
    BufferSource source =
        sources.lookup(param.getAs<StringAttr>("name").getValue());
    NamedAttrList fields(param);
    fields.set(source.isResult ? "result" : "operand",
               b.getI64IntegerAttr(source.index));
    func.setArgAttr(i, "sattn.param", fields.getDictionary(func.getContext()));
  }
}

/// Records on a stage op the kernels that implement it, in launch order.
void recordKernels(Operation *op, gpu::GPUModuleOp module,
                   ArrayRef<gpu::GPUFuncOp> funcs) {
  SmallVector<Attribute> refs;
  for (gpu::GPUFuncOp func : funcs)
    refs.push_back(SymbolRefAttr::get(module.getSymNameAttr(),
                                      {FlatSymbolRefAttr::get(func)}));
  op->setAttr("sattn.kernels", ArrayAttr::get(op->getContext(), refs));
}

struct SattnInstantiateKernelsPass
    : public impl::SattnInstantiateKernelsBase<SattnInstantiateKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!isSupportedArch(arch)) {
      module.emitError() << "target.arch: unknown value \"" << arch
                         << "\" (allowed: sm_80, sm_90a)";
      return signalPassFailure();
    }
    if (attentionTemplate != "mma" && attentionTemplate != "simt") {
      module.emitError() << "attention-template: unknown value \""
                         << attentionTemplate << "\" (allowed: mma, simt)";
      return signalPassFailure();
    }
    if (keyTile != 32 && keyTile != 64 && keyTile != 128) {
      module.emitError() << "key-tile: unsupported value " << keyTile
                         << " (allowed: 32, 64, 128)";
      return signalPassFailure();
    }
    if (warpRows != 0 && warpRows != 16 && warpRows != 32) {
      module.emitError() << "warp-rows: unsupported value " << warpRows
                         << " (allowed: 0, 16, 32)";
      return signalPassFailure();
    }
    if (stages < 2 || stages > 4) {
      module.emitError() << "stages: unsupported value " << stages
                         << " (allowed: 2, 3, 4)";
      return signalPassFailure();
    }
    SmallVector<SparseAttentionOp> attentions;
    module.walk([&](SparseAttentionOp op) { attentions.push_back(op); });
    if (attentions.empty())
      return;

    OpBuilder builder(module.getContext());
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    builder.getUnitAttr());
    auto kernels = module.lookupSymbol<gpu::GPUModuleOp>(kKernelModule);
    if (!kernels) {
      builder.setInsertionPointToEnd(module.getBody());
      kernels =
          gpu::GPUModuleOp::create(builder, module.getLoc(), kKernelModule);
    }
    SymbolTable symbols(kernels);

    for (SparseAttentionOp op : attentions)
      if (failed(instantiate(op, builder, kernels, symbols)))
        return signalPassFailure();
  }

  LogicalResult instantiate(SparseAttentionOp op, OpBuilder &builder,
                            gpu::GPUModuleOp kernels, SymbolTable &symbols) {
    auto qType = op.getQ().getType();
    if (!qType.hasStaticShape() || !op.getGroups().getType().hasStaticShape())
      return op.emitOpError() << "needs static shapes to instantiate a kernel";
    Type element = qType.getElementType();
    if (!isa<BFloat16Type, Float16Type>(element))
      return op.emitOpError()
             << "problem.dtype: the GPU kernels take bf16 "
                "or fp16 operands, not "
             << element << " (allowed: " << allowedFor("problem.dtype") << ")";
    AttentionKernelParams p;
    p.dtype = isa<BFloat16Type>(element) ? DType::BF16 : DType::FP16;
    p.headDim = qType.getDimSize(3);
    p.blockQ = op.getBlockQ();
    p.blockK = op.getBlockK();
    p.bins = op.getTailKeys() ? op.getTailKeys().getType().getDimSize(3) : 0;
    p.writeLse = bool(op.getLse());
    p.name = uniqueName(symbols, "sattn_sparse_attention");
    p.keyTile = keyTile;
    p.stages = stages;
    p.warpRows = warpRows;
    // mma.sync runs on sm_80 and later, sm_90a included, until the wgmma
    // template exists; the SIMT one is the portable baseline.
    bool mma = attentionTemplate == "mma";
    if (mma)
      if (std::string problem = sparseAttentionMmaProblem(p); !problem.empty())
        return op.emitOpError()
               << "the mma attention template cannot take " << problem;
    gpu::GPUFuncOp func = mma ? buildSparseAttentionMma(builder, kernels, p)
                              : buildSparseAttentionSimt(builder, kernels, p);
    symbols.insert(func);
    int64_t sharedBytes = mma ? sparseAttentionMmaSharedBytes(p) : 0;

    int64_t batch = qType.getDimSize(0), heads = qType.getDimSize(1);
    int64_t seq = qType.getDimSize(2);
    int64_t queryBlocks = (seq + p.blockQ - 1) / p.blockQ;
    std::string blocks = "ceildiv(S, " + std::to_string(p.blockQ) + ")";
    recordLaunch(func, "sparse_attention", {queryBlocks, heads, batch},
                 {blocks, "H", "B"}, sharedBytes);
    setParamValue(func, "seq_len", builder.getI32IntegerAttr(int32_t(seq)));
    setParamValue(func, "capacity",
                  builder.getI32IntegerAttr(
                      int32_t(op.getGroups().getType().getDimSize(3))));
    setParamValue(
        func, "scale",
        builder.getF32FloatAttr(float(op.getScale().convertToDouble())));
    // ODS operand order: q, k, v, groups, counts, tail keys, values, counts.
    auto operand = [&](unsigned odsIndex) {
      return BufferSource{false,
                          op.getODSOperandIndexAndLength(odsIndex).first};
    };
    llvm::StringMap<BufferSource> sources = {
        {"q", operand(0)},           {"k", operand(1)},
        {"v", operand(2)},           {"groups", operand(3)},
        {"counts", operand(4)},      {"tail_keys", operand(5)},
        {"tail_values", operand(6)}, {"tail_log_counts", operand(7)},
        {"out", {true, 0}},          {"lse", {true, 1}}};
    bindBuffers(func, sources);
    recordKernels(op, kernels, {func});
    return success();
  }

  static std::string uniqueName(SymbolTable &symbols, StringRef base) {
    std::string name = base.str();
    for (int i = 1; symbols.lookup(name); ++i)
      name = (base + "_" + Twine(i)).str();
    return name;
  }
};

} // namespace
} // namespace sattn
