//===- InstantiateKernels.cpp - Stage ops -> gpu.funcs from templates -----===//

#include "dialect/SattnOps.h"
#include "passes/Passes.h"
#include "templates/SparseAttentionMma.h"
#include "templates/SparseAttentionSimt.h"
#include "templates/StageKernels.h"

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
#include "llvm/ADT/TypeSwitch.h"

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
    if (param.getAs<StringAttr>("role").getValue() != "buffer" ||
        param.get("constant") || param.get("scratch"))
      continue;
    StringRef name = param.getAs<StringAttr>("name").getValue();
    auto it = sources.find(name);
    if (it == sources.end())
      llvm::report_fatal_error("sattn: kernel " + func.getName() +
                               " has no binding for buffer " + name);
    BufferSource source = it->second;
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
    if (attentionTemplate != "auto" && attentionTemplate != "mma" &&
        attentionTemplate != "wgmma" && attentionTemplate != "wgmma-ws" &&
        attentionTemplate != "simt") {
      module.emitError() << "attention-template: unknown value \""
                         << attentionTemplate
                         << "\" (allowed: auto, mma, wgmma, wgmma-ws, simt)";
      return signalPassFailure();
    }
    if ((attentionTemplate == "wgmma" || attentionTemplate == "wgmma-ws") &&
        arch != "sm_90a") {
      module.emitError() << "attention-template: " << attentionTemplate
                         << " needs target.arch sm_90a, not " << arch;
      return signalPassFailure();
    }
    if (keyTile != 0 && keyTile != 32 && keyTile != 64 && keyTile != 128) {
      module.emitError() << "key-tile: unsupported value " << keyTile
                         << " (allowed: 0 for the template's default, 32, "
                            "64, 128)";
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
    SmallVector<Operation *> stages;
    module.walk([&](Operation *op) {
      if (isa<SparseAttentionOp, ReorderOp, UnreorderOp, PoolOp, ScoreOp,
              SelectOp, AdaptiveDensityOp, TailBinsOp>(op))
        stages.push_back(op);
    });
    if (stages.empty())
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

    for (Operation *op : stages) {
      LogicalResult result =
          TypeSwitch<Operation *, LogicalResult>(op)
              .Case([&](SparseAttentionOp op) {
                return instantiate(op, builder, kernels, symbols);
              })
              .Case<ReorderOp, UnreorderOp>([&](auto op) {
                return instantiatePermute(op, isa<UnreorderOp>(op), builder,
                                          kernels, symbols);
              })
              .Case([&](PoolOp op) {
                return instantiatePool(op, builder, kernels, symbols);
              })
              .Case([&](ScoreOp op) {
                return instantiateScore(op, builder, kernels, symbols);
              })
              .Case([&](SelectOp op) {
                return instantiateSelect(op, builder, kernels, symbols);
              })
              .Case([&](AdaptiveDensityOp op) {
                return instantiateAdaptive(op, builder, kernels, symbols);
              })
              .Case([&](TailBinsOp op) {
                return instantiateTail(op, builder, kernels, symbols);
              })
              .Default([](Operation *) { return success(); });
      if (failed(result))
        return signalPassFailure();
    }
  }

  /// The element type of an activation tensor as a kernel dtype.
  static FailureOr<DType> halfDType(Operation *op, Type element) {
    if (isa<BFloat16Type>(element))
      return DType::BF16;
    if (isa<Float16Type>(element))
      return DType::FP16;
    return op->emitOpError()
           << "problem.dtype: the GPU kernels take bf16 or fp16 operands, not "
           << element << " (allowed: " << allowedFor("problem.dtype") << ")";
  }

  /// `ceildiv(S, n)`, `H`, `B` and the static grid of a kernel with one
  /// thread block per n tokens (or rows of n tokens) per head.
  static void recordRowGrid(gpu::GPUFuncOp func, StringRef stage,
                            RankedTensorType type, int64_t seq, int64_t n,
                            StringRef when) {
    int64_t batch = type.getDimSize(0), heads = type.getDimSize(1);
    std::string blocks = "ceildiv(S, " + std::to_string(n) + ")";
    recordLaunch(func, stage, {(seq + n - 1) / n, heads, batch},
                 {blocks, "H", "B"}, 0);
    func->setAttr("sattn.when", StringAttr::get(func.getContext(), when));
  }

  static llvm::StringMap<BufferSource> operandSources(
      Operation *op, ArrayRef<std::pair<StringRef, int>> operands,
      ArrayRef<std::pair<StringRef, unsigned>> results) {
    llvm::StringMap<BufferSource> sources;
    for (auto [name, index] : operands)
      if (index >= 0)
        sources[name] = BufferSource{false, unsigned(index)};
    for (auto [name, index] : results)
      sources[name] = BufferSource{true, index};
    return sources;
  }

  LogicalResult instantiatePermute(Operation *op, bool inverse,
                                   OpBuilder &builder, gpu::GPUModuleOp kernels,
                                   SymbolTable &symbols) {
    auto type = cast<RankedTensorType>(op->getOperand(0).getType());
    if (type.getRank() != 4)
      return success(); // log-sum-exp rows: the linear path has no kernels
    FailureOr<DType> dtype = halfDType(op, type.getElementType());
    if (failed(dtype))
      return failure();
    ReorderKernelParams p;
    p.dtype = *dtype;
    p.headDim = type.getDimSize(3);
    p.inverse = inverse;
    p.name = uniqueName(symbols, inverse ? "sattn_unreorder" : "sattn_reorder");
    gpu::GPUFuncOp func = buildReorderKernel(builder, kernels, p);
    symbols.insert(func);
    int64_t seq = type.getDimSize(2);
    recordRowGrid(func, inverse ? "unreorder" : "reorder", type, seq,
                  ReorderKernelParams::kRows, "always");
    setParamValue(func, "seq_len", builder.getI32IntegerAttr(int32_t(seq)));
    bindBuffers(func, operandSources(op, {{"x", 0}}, {{"y", 0}}));
    recordKernels(op, kernels, {func});
    return success();
  }

  LogicalResult instantiatePool(PoolOp op, OpBuilder &builder,
                                gpu::GPUModuleOp kernels,
                                SymbolTable &symbols) {
    auto type = cast<RankedTensorType>(op.getInput().getType());
    FailureOr<DType> dtype = halfDType(op, type.getElementType());
    if (failed(dtype))
      return failure();
    PoolKernelParams p;
    p.dtype = *dtype;
    p.headDim = type.getDimSize(3);
    p.tile = int64_t(op.getTile());
    p.tokenOrder = bool(op.getTokenOrderAttr());
    p.name = uniqueName(symbols, "sattn_pool");
    gpu::GPUFuncOp func = buildPoolKernel(builder, kernels, p);
    symbols.insert(func);
    // Means that feed the tail bins are needed at every sparse step (the
    // bins are rebuilt from each step's k and v); scoring means only when
    // the mask is refreshed.
    bool feedsTail = llvm::any_of(op->getUsers(), [](Operation *user) {
      return isa<TailBinsOp>(user);
    });
    int64_t seq = type.getDimSize(2);
    recordRowGrid(func, "pool", type, seq, p.tile,
                  feedsTail ? "sparse" : "refresh");
    setParamValue(func, "seq_len", builder.getI32IntegerAttr(int32_t(seq)));
    bindBuffers(func, operandSources(op, {{"x", 0}}, {{"means", 0}}));
    recordKernels(op, kernels, {func});
    return success();
  }

  LogicalResult instantiateScore(ScoreOp op, OpBuilder &builder,
                                 gpu::GPUModuleOp kernels,
                                 SymbolTable &symbols) {
    ScoringAttr scoring = op.getScoring();
    ScoreKernelParams p;
    p.aggregate = scoring.getAggregate();
    p.headDim = op.getQueryMeans().getType().getDimSize(3);
    p.seqLen = int64_t(op.getSeqLen());
    p.blockQ = int64_t(op.getBlockQ());
    p.poolQ = scoring.getPoolQ();
    p.poolK = scoring.getPoolK();
    p.group = int64_t(op.getGroup());
    p.parentGroup = op.getParentGroup() ? int64_t(*op.getParentGroup()) : 0;
    p.scale = op.getScale().convertToDouble();
    if (std::string problem = scoreKernelProblem(p); !problem.empty())
      return noKernel(op, "the score kernel cannot take " + problem);
    // softmax-sum: the first level's kernel runs on tensor cores where the
    // shape fits, summing the tile probabilities once at the finest level;
    // finer levels then derive their scores from those sums.
    ArrayRef<int64_t> levels = scoring.getLevels();
    ScoreKernelParams first = p;
    first.group = levels.empty() ? p.group : levels.front();
    first.parentGroup = 0;
    first.fineGroup = levels.size() > 1 ? levels.back() : 0;
    bool mma = scoreMmaWarps(first) > 0;
    auto type = op.getScores().getType();
    SmallVector<int64_t> fineShape(type.getShape());
    if (first.fineGroup)
      fineShape[3] = (p.seqLen + first.fineGroup - 1) / first.fineGroup;
    p.name = uniqueName(symbols, "sattn_score");
    gpu::GPUFuncOp func;
    if (mma && !p.parentGroup) {
      p.fineGroup = first.fineGroup;
      func = buildScoreMmaKernel(builder, kernels, p);
      int64_t rows = p.blockQ * scoreMmaBlocksPerCta(p);
      recordRowGrid(func, "score", op.getQueryMeans().getType(), p.seqLen,
                    rows, "refresh");
    } else {
      if (mma) {
        p.fromFine = true;
        p.fineGroup = first.fineGroup;
      }
      func = buildScoreKernel(builder, kernels, p);
      recordRowGrid(func, "score", op.getQueryMeans().getType(), p.seqLen,
                    p.blockQ, "refresh");
    }
    symbols.insert(func);
    if (mma && first.fineGroup)
      setScratch(func, "fine_scores", fineShape, "f32", /*shared=*/true);
    auto operand = [&](unsigned odsIndex) {
      auto [start, length] = op.getODSOperandIndexAndLength(odsIndex);
      return length ? int(start) : -1;
    };
    bindBuffers(func, operandSources(op,
                                     {{"query_means", operand(0)},
                                      {"key_means", operand(1)},
                                      {"parent_groups", operand(2)},
                                      {"parent_counts", operand(3)},
                                      {"parent_scores", operand(4)}},
                                     {{"scores", 0}}));
    recordKernels(op, kernels, {func});
    return success();
  }

  /// A select kernel for a SelectOp, or the curve kernel of an
  /// AdaptiveDensityOp (`p.curve`); `out` stays null when the stage is left
  /// without a kernel.
  LogicalResult instantiateSelectLike(
      Operation *op, TypedValue<RankedTensorType> scoresValue,
      SelectionAttr selection, ProblemAttr layout, uint64_t blockQ,
      uint64_t group, std::optional<uint64_t> parentGroup,
      SelectKernelParams p, OpBuilder &builder, gpu::GPUModuleOp kernels,
      SymbolTable &symbols, gpu::GPUFuncOp &out) {
    p.selection.rule = selection.getRule();
    p.selection.density = selection.getDensity().value;
    p.selection.p = selection.getP().value;
    p.selection.threshold = selection.getThreshold().value;
    p.selection.keep.assign(selection.getKeep().begin(),
                            selection.getKeep().end());
    p.problem = layout.getParams();
    p.blockQ = int64_t(blockQ);
    p.group = int64_t(group);
    p.parentGroup = parentGroup ? int64_t(*parentGroup) : 0;
    p.aggregate = aggregateOf(scoresValue);
    if (std::string problem = selectKernelProblem(p); !problem.empty())
      return noKernel(op, "the select kernel cannot take " + problem);
    p.name = uniqueName(symbols, p.curve ? "sattn_recall_curve"
                                         : "sattn_select");
    gpu::GPUFuncOp func = buildSelectKernel(builder, kernels, p);
    symbols.insert(func);
    recordRowGrid(func, p.curve ? "adaptive_density" : "select",
                  scoresValue.getType(), p.problem.seqLen(), p.blockQ,
                  "refresh");
    bool topk = p.selection.rule == SelectionRule::TopK;
    if (topk && !p.curve &&
        p.density == SelectKernelParams::Density::Step)
      setParamSource(func, "density", "density");
    out = func;
    return success();
  }

  LogicalResult instantiateSelect(SelectOp op, OpBuilder &builder,
                                  gpu::GPUModuleOp kernels,
                                  SymbolTable &symbols) {
    SelectKernelParams p;
    if (op.getHeadDensity()) {
      p.density = SelectKernelParams::Density::PerHead;
    } else if (FloatAttr fixed = op.getDensityAttr()) {
      p.density = SelectKernelParams::Density::Fixed;
      p.fixedDensity = fixed.getValueAsDouble();
    }
    p.finalLevel = finalLevel(op);
    gpu::GPUFuncOp func;
    if (failed(instantiateSelectLike(op, op.getScores(), op.getSelection(),
                                     op.getLayout(), op.getBlockQ(),
                                     op.getGroup(), op.getParentGroup(), p,
                                     builder, kernels, symbols, func)))
      return failure();
    if (!func)
      return success(); // left without a kernel (sattn.no_kernel says why)
    auto operand = [&](unsigned odsIndex) {
      auto [start, length] = op.getODSOperandIndexAndLength(odsIndex);
      return length ? int(start) : -1;
    };
    bindBuffers(func, operandSources(op,
                                     {{"scores", operand(0)},
                                      {"parent_groups", operand(1)},
                                      {"parent_counts", operand(2)},
                                      {"head_density", operand(3)}},
                                     {{"groups", 0}, {"counts", 1},
                                      {"recall", 2}}));
    recordKernels(op, kernels, {func});
    return success();
  }

  LogicalResult instantiateAdaptive(AdaptiveDensityOp op, OpBuilder &builder,
                                    gpu::GPUModuleOp kernels,
                                    SymbolTable &symbols) {
    SelectKernelParams p;
    p.curve = true;
    p.finalLevel = true;
    gpu::GPUFuncOp curve;
    if (failed(instantiateSelectLike(op, op.getScores(), op.getSelection(),
                                     op.getLayout(), op.getBlockQ(),
                                     op.getGroup(), op.getParentGroup(), p,
                                     builder, kernels, symbols, curve)))
      return failure();
    if (!curve)
      return success(); // left without a kernel (sattn.no_kernel says why)
    auto scores = op.getScores().getType();
    AdaptiveDensityKernelParams a;
    AdaptiveAttr adaptive = op.getAdaptive();
    a.adaptive.enabled = true;
    a.adaptive.targetRecall = adaptive.getTargetRecall().value;
    a.adaptive.minDensity = adaptive.getMinDensity().value;
    a.adaptive.maxDensity = adaptive.getMaxDensity().value;
    a.numQueryBlocks = scores.getDimSize(2);
    a.numGroups = scores.getDimSize(3);
    a.name = uniqueName(symbols, "sattn_adaptive_density");
    gpu::GPUFuncOp density = buildAdaptiveDensityKernel(builder, kernels, a);
    symbols.insert(density);
    int64_t seq = op.getLayout().getParams().seqLen();
    recordRowGrid(density, "adaptive_density", scores, seq, seq, "refresh");
    SmallVector<int64_t> curveShape = {scores.getDimSize(0),
                                       scores.getDimSize(1),
                                       scores.getDimSize(3)};
    setScratch(curve, "curve", curveShape, "f32");
    setScratch(density, "curve", curveShape, "f32");
    auto operand = [&](unsigned odsIndex) {
      auto [start, length] = op.getODSOperandIndexAndLength(odsIndex);
      return length ? int(start) : -1;
    };
    auto sources = operandSources(op,
                                  {{"scores", operand(0)},
                                   {"parent_groups", operand(1)},
                                   {"parent_counts", operand(2)}},
                                  {{"head_density", 0}});
    bindBuffers(curve, sources);
    bindBuffers(density, sources);
    recordKernels(op, kernels, {curve, density});
    return success();
  }

  /// Leaves a stage op without kernels, saying why: the variant still
  /// compiles (its attention kernel serves a caller's own masks), and the
  /// runtime refuses to plan it with this reason.
  static LogicalResult noKernel(Operation *op, const std::string &why) {
    op->setAttr("sattn.no_kernel", StringAttr::get(op->getContext(), why));
    return success();
  }

  /// The scoring aggregate of scores: they come from a score op.
  static ScoreAggregate aggregateOf(Value scores) {
    if (auto score = scores.getDefiningOp<ScoreOp>())
      return score.getScoring().getAggregate();
    return ScoreAggregate::SoftmaxSum;
  }
  /// Whether no finer select consumes this one's lists.
  static bool finalLevel(SelectOp op) {
    return llvm::none_of(op.getGroups().getUsers(), [](Operation *user) {
      return isa<ScoreOp, SelectOp>(user);
    });
  }

  LogicalResult instantiateTail(TailBinsOp op, OpBuilder &builder,
                                gpu::GPUModuleOp kernels,
                                SymbolTable &symbols) {
    TailKernelParams p;
    p.headDim = op.getKeyMeans().getType().getDimSize(3);
    p.seqLen = int64_t(op.getSeqLen());
    p.group = int64_t(op.getGroup());
    p.bins = int64_t(op.getBins());
    if (auto score = op.getScores().getDefiningOp<ScoreOp>())
      p.blockQ = int64_t(score.getBlockQ());
    auto scores = op.getScores().getType();
    if (std::string problem = tailKernelProblem(p, scores.getDimSize(3));
        !problem.empty())
      return noKernel(op, "the tail kernels cannot take " + problem);
    p.name = uniqueName(symbols, "sattn_tail");
    gpu::GPUFuncOp order = buildTailOrderKernel(builder, kernels, p);
    symbols.insert(order);
    gpu::GPUFuncOp sums = buildTailSumsKernel(builder, kernels, p);
    symbols.insert(sums);
    gpu::GPUFuncOp values = buildTailValuesKernel(builder, kernels, p);
    symbols.insert(values);
    // The bins' membership is part of the mask; their keys and values
    // follow each step's k and v (SPEC §4 schedule).
    auto score = op.getScores().getDefiningOp<ScoreOp>();
    if (!score)
      return op.emitOpError() << "needs scores from a sattn.score op (its "
                                 "query block sets the launch grid)";
    int64_t blockQ = int64_t(score.getBlockQ());
    recordRowGrid(order, "tail_bins", scores, p.seqLen, blockQ, "refresh");
    {
      // One CTA per (tailRowsPerCta query blocks, bin).
      int64_t rows = tailRowsPerCta(p), tokens = blockQ * rows;
      std::string tiles = "ceildiv(S, " + std::to_string(tokens) + ") * " +
                          std::to_string(p.bins);
      recordLaunch(values, "tail_bins",
                   {(p.seqLen + tokens - 1) / tokens * p.bins,
                    scores.getDimSize(1), scores.getDimSize(0)},
                   {tiles, "H", "B"}, 0);
      values->setAttr("sattn.when", builder.getStringAttr("sparse"));
    }
    {
      // One thread per 16-byte chunk of the f16 sums, keys and values.
      int64_t numGroups = scores.getDimSize(3);
      int64_t copies = 2 * tailSumsWidth(p) / 8, threads = TailKernelParams::kThreads;
      std::string blocks = "ceildiv(ceildiv(S, " + std::to_string(p.group) +
                           ") * " + std::to_string(copies) + ", " +
                           std::to_string(threads) + ")";
      recordLaunch(sums, "tail_bins",
                   {(numGroups * copies + threads - 1) / threads,
                    scores.getDimSize(1), scores.getDimSize(0)},
                   {blocks, "H", "B"}, 0);
      sums->setAttr("sattn.when", builder.getStringAttr("sparse"));
    }
    SmallVector<int64_t> scratchShape(scores.getShape());
    setScratch(order, "bin_of", scratchShape, "i8");
    setScratch(values, "bin_of", scratchShape, "i8");
    SmallVector<int64_t> sumsShape = {scores.getDimSize(0),
                                      scores.getDimSize(1), 2,
                                      scores.getDimSize(3), tailSumsWidth(p)};
    setScratch(sums, "tail_sums", sumsShape, "f16");
    setScratch(values, "tail_sums", sumsShape, "f16");
    auto sources = operandSources(op,
                                  {{"scores", 0},
                                   {"groups", 1},
                                   {"counts", 2},
                                   {"key_means", 3},
                                   {"value_means", 4}},
                                  {{"tail_keys", 0},
                                   {"tail_values", 1},
                                   {"tail_log_counts", 2}});
    bindBuffers(order, sources);
    bindBuffers(sums, sources);
    bindBuffers(values, sources);
    recordKernels(op, kernels, {order, sums, values});
    return success();
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
    p.tokenOrder = bool(op.getTokenOrderAttr());
    p.name = uniqueName(symbols, "sattn_sparse_attention");
    p.stages = stages;
    p.warpRows = warpRows;
    // auto: on sm_90a the warp-specialized wgmma kernel where it takes the
    // tile parameters, else wgmma, else mma.sync (sm_80 and later); the
    // SIMT one is the portable baseline. A key tile of 0 is the template's
    // default, the fastest measured (H100, wan2.1 and cogvideox shapes,
    // bench/NOTES-mma.md): 128 keys for wgmma-ws at both head dims, for
    // wgmma at head_dim 128 (64 at 64); 64 for mma.sync.
    auto withTemplate = [&](StringRef name) {
      AttentionKernelParams q = p;
      q.wgmma = name == "wgmma";
      q.warpSpecialized = name == "wgmma-ws";
      q.persistent = persistent;
      q.keyTile = keyTile                                   ? keyTile
                  : q.warpSpecialized                       ? 128
                  : q.wgmma && p.headDim == 128 ? 128
                                                            : 64;
      return q;
    };
    StringRef chosen = attentionTemplate;
    if (chosen == "auto") {
      chosen = "mma";
      if (arch == "sm_90a")
        for (StringRef hopper : {"wgmma-ws", "wgmma"})
          if (sparseAttentionMmaProblem(withTemplate(hopper)).empty()) {
            chosen = hopper;
            break;
          }
    }
    p = withTemplate(chosen);
    if (p.persistent && chosen != "wgmma-ws")
      return op.emitOpError()
             << "the " << chosen
             << " attention template cannot take a persistent grid (only "
                "wgmma-ws walks work items; it needs target.arch sm_90a)";
    bool tensorCores = chosen != "simt";
    if (tensorCores)
      if (std::string problem = sparseAttentionMmaProblem(p); !problem.empty())
        return op.emitOpError() << "the " << chosen
                                << " attention template cannot take "
                                << problem;
    gpu::GPUFuncOp func = tensorCores
                              ? buildSparseAttentionMma(builder, kernels, p)
                              : buildSparseAttentionSimt(builder, kernels, p);
    symbols.insert(func);
    int64_t sharedBytes = tensorCores ? sparseAttentionMmaSharedBytes(p) : 0;

    int64_t batch = qType.getDimSize(0), heads = qType.getDimSize(1);
    int64_t seq = qType.getDimSize(2);
    int64_t queryBlocks = (seq + p.blockQ - 1) / p.blockQ;
    std::string blocks = "ceildiv(S, " + std::to_string(p.blockQ) + ")";
    if (p.persistent) {
      // The grid counts the work items; the runtime launches one CTA per
      // multiprocessor (at most one per item).
      recordLaunch(func, "sparse_attention", {queryBlocks * heads * batch, 1, 1},
                   {blocks + " * H * B", "1", "1"}, sharedBytes);
      func->setAttr("sattn.persistent", builder.getUnitAttr());
      setParamValue(func, "heads", builder.getI32IntegerAttr(int32_t(heads)));
      setParamValue(func, "batch", builder.getI32IntegerAttr(int32_t(batch)));
    } else {
      recordLaunch(func, "sparse_attention", {queryBlocks, heads, batch},
                   {blocks, "H", "B"}, sharedBytes);
    }
    setParamValue(func, "seq_len", builder.getI32IntegerAttr(int32_t(seq)));
    setParamValue(func, "capacity",
                  builder.getI32IntegerAttr(
                      int32_t(op.getGroups().getType().getDimSize(3))));
    setParamValue(
        func, "scale",
        builder.getF32FloatAttr(float(op.getScale().convertToDouble())));
    setParamSource(func, "dense", "dense");
    func->setAttr("sattn.when", builder.getStringAttr("always"));
    func->setAttr("sattn.implementation",
                  builder.getStringAttr(tensorCores
                                            ? sparseAttentionMmaImplementation(p)
                                            : chosen.str() +
                                                  (p.tokenOrder
                                                       ? " token_order"
                                                       : "")));
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
