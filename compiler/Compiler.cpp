//===- Compiler.cpp - A variant to PTX and a manifest, in process ---------===//

#include "compiler/Compiler.h"

#include "compiler/Registration.h"
#include "compiler/Version.h"
#include "dialect/SattnOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

#include <algorithm>
#include <chrono>
#include <map>

using namespace mlir;

namespace sattn {
namespace {

std::string dtypeName(Type type) {
  if (type.isBF16())
    return "bf16";
  if (type.isF16())
    return "f16";
  if (type.isF32())
    return "f32";
  if (type.isF64())
    return "f64";
  if (type.isInteger(32))
    return "i32";
  if (type.isInteger(64))
    return "i64";
  if (isa<LLVM::LLVMPointerType>(type))
    return "ptr";
  std::string out;
  llvm::raw_string_ostream(out) << type;
  return out;
}

/// func.func @attention(%q, %k, %v) -> out { sattn.attention }
func::FuncOp buildEntry(OpBuilder &b, ModuleOp module, const VariantParams &v) {
  const ProblemParams &p = v.problem;
  Type element =
      p.dtype == DType::BF16 ? Type(b.getBF16Type()) : Type(b.getF16Type());
  auto type =
      RankedTensorType::get({p.batch, p.heads, p.seqLen(), p.headDim}, element);
  b.setInsertionPointToEnd(module.getBody());
  Location loc = module.getLoc();
  auto func = func::FuncOp::create(b, loc, "attention",
                                   b.getFunctionType({type, type, type}, type));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value out = AttentionOp::create(b, loc, type, entry->getArgument(0),
                                  entry->getArgument(1), entry->getArgument(2),
                                  VariantAttr::get(b.getContext(), v));
  func::ReturnOp::create(b, loc, out);
  return func;
}

/// Names every tensor of the entry function: q, k, v, out, and
/// `<stage>_<n>.<result>` for the workspace.
class BufferNames {
public:
  explicit BufferNames(func::FuncOp func) {
    const char *inputs[] = {"q", "k", "v"};
    for (auto [i, arg] : llvm::enumerate(func.getArguments()))
      add(arg, inputs[i], ManifestBuffer::Kind::Input);
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    Value out = ret.getOperand(0);
    // The output may be an input passed through only in degenerate IR; name
    // the returned value "out" unless it already is an input.
    if (!names.count(out.getAsOpaquePointer()))
      add(out, "out", ManifestBuffer::Kind::Output);
    int index = 0;
    func.walk([&](Operation *op) {
      if (op->getDialect()->getNamespace() != "sattn")
        return;
      std::string stage =
          op->getName().stripDialect().str() + "_" + std::to_string(index++);
      stageNames[op] = stage;
      std::map<unsigned, std::string> resultNames;
      if (auto asmOp = dyn_cast<OpAsmOpInterface>(op))
        asmOp.getAsmResultNames([&](Value v, StringRef name) {
          resultNames[cast<OpResult>(v).getResultNumber()] = name.str();
        });
      for (OpResult result : op->getResults()) {
        if (names.count(result.getAsOpaquePointer()))
          continue;
        std::string name = resultNames.count(result.getResultNumber())
                               ? resultNames[result.getResultNumber()]
                               : "result";
        add(result, stage + "." + name, ManifestBuffer::Kind::Workspace);
      }
    });
  }

  const std::string &operator[](Value v) const {
    return names.at(v.getAsOpaquePointer());
  }
  /// `<stage>_<n>` of a stage op.
  const std::string &stageName(Operation *op) const {
    return stageNames.at(op);
  }
  /// Adds a buffer that is not a value of the function (a constant table or
  /// a kernel's scratch), once.
  const std::string &addExtra(ManifestBuffer buffer) {
    for (const ManifestBuffer &existing : buffers)
      if (existing.name == buffer.name)
        return existing.name;
    buffers.push_back(std::move(buffer));
    return buffers.back().name;
  }
  std::vector<ManifestBuffer> buffers;

private:
  void add(Value v, std::string name, ManifestBuffer::Kind kind) {
    auto type = cast<RankedTensorType>(v.getType());
    ManifestBuffer buffer;
    buffer.name = name;
    buffer.kind = kind;
    buffer.dtype = dtypeName(type.getElementType());
    buffer.shape.assign(type.getShape().begin(), type.getShape().end());
    buffers.push_back(buffer);
    names[v.getAsOpaquePointer()] = std::move(name);
  }
  std::map<const void *, std::string> names;
  std::map<Operation *, std::string> stageNames;
};

ManifestKernel describeKernel(gpu::GPUFuncOp func, Operation *stageOp,
                              BufferNames &names, int64_t seqLen) {
  ManifestKernel k;
  k.name = func.getName().str();
  k.stage = func->getAttrOfType<StringAttr>("sattn.stage").str();
  if (auto when = func->getAttrOfType<StringAttr>("sattn.when"))
    k.when = when.getValue() == "refresh"  ? KernelWhen::Refresh
             : when.getValue() == "sparse" ? KernelWhen::Sparse
                                           : KernelWhen::Always;
  auto grid = func->getAttrOfType<DenseI64ArrayAttr>("sattn.grid");
  auto formula = func->getAttrOfType<ArrayAttr>("sattn.grid_formula");
  for (int i = 0; i < 3; ++i) {
    k.grid[i] = grid[i];
    k.gridFormula[i] = cast<StringAttr>(formula[i]).str();
    k.block[i] = (*func.getKnownBlockSize())[i];
  }
  k.dynamicSharedMemory =
      func->getAttrOfType<IntegerAttr>("sattn.dynamic_smem").getInt();
  k.persistent = func->hasAttr("sattn.persistent");
  if (auto implementation =
          func->getAttrOfType<StringAttr>("sattn.implementation"))
    k.implementation = implementation.str();
  // The parameter list is read off the final signature: one PTX parameter
  // per gpu.func argument (raw pointers and scalars only).
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    auto attr = func.getArgAttrOfType<DictionaryAttr>(i, "sattn.param");
    ManifestParam param;
    StringRef role = attr.getAs<StringAttr>("role").getValue();
    param.role = role == "buffer"       ? ManifestParam::Role::Buffer
                 : role == "stride"     ? ManifestParam::Role::Stride
                 : role == "tensor_map" ? ManifestParam::Role::TensorMap
                                        : ManifestParam::Role::Scalar;
    param.name = attr.getAs<StringAttr>("name").str();
    param.type = param.role == ManifestParam::Role::TensorMap
                     ? "tensormap"
                     : dtypeName(func.getArgumentTypes()[i]);
    if (auto dim = attr.getAs<IntegerAttr>("dim"))
      param.dim = dim.getInt();
    if (auto box = attr.getAs<ArrayAttr>("box"))
      for (int j = 0; j < 2; ++j)
        param.box[j] = cast<IntegerAttr>(box[j]).getInt();
    if (auto swizzle = attr.getAs<IntegerAttr>("swizzle"))
      param.swizzle = swizzle.getInt();
    if (auto operand = attr.getAs<IntegerAttr>("operand"))
      param.buffer = names[stageOp->getOperand(operand.getInt())];
    if (auto result = attr.getAs<IntegerAttr>("result"))
      param.buffer = names[stageOp->getResult(result.getInt())];
    if (auto fill = attr.getAs<StringAttr>("constant")) {
      // Constant tables are [S] i32, shared by every kernel that reads them.
      ManifestBuffer buffer;
      buffer.name = fill.str();
      buffer.kind = ManifestBuffer::Kind::Constant;
      buffer.fill = fill.str();
      buffer.dtype = "i32";
      buffer.shape = {seqLen};
      param.buffer = names.addExtra(buffer);
    }
    if (attr.get("scratch")) {
      ManifestBuffer buffer;
      buffer.name = attr.get("shared")
                        ? param.name
                        : names.stageName(stageOp) + "." + param.name;
      buffer.kind = ManifestBuffer::Kind::Workspace;
      buffer.dtype = attr.getAs<StringAttr>("dtype").str();
      for (Attribute d : attr.getAs<ArrayAttr>("shape"))
        buffer.shape.push_back(cast<IntegerAttr>(d).getInt());
      param.buffer = names.addExtra(buffer);
    }
    if (auto source = attr.getAs<StringAttr>("source"))
      param.source = source.str();
    if (auto value = attr.get("value")) {
      if (auto f = dyn_cast<FloatAttr>(value))
        param.value = f.getValueAsDouble();
      else
        param.value = double(cast<IntegerAttr>(value).getInt());
    }
    k.params.push_back(std::move(param));
  }
  // Strides and tensor maps name the buffer parameter they describe; bind
  // them to its pipeline buffer too.
  for (ManifestParam &param : k.params)
    if (param.role == ManifestParam::Role::Stride ||
        param.role == ManifestParam::Role::TensorMap)
      for (const ManifestParam &buffer : k.params)
        if (buffer.role == ManifestParam::Role::Buffer &&
            buffer.name == param.name)
          param.buffer = buffer.buffer;
  return k;
}

Manifest collectManifest(ModuleOp module, func::FuncOp func,
                         const VariantParams &v, StringRef arch) {
  Manifest m;
  m.name = v.name;
  m.arch = arch.str();
  m.compiler = SATTN_COMPILER_VERSION;
  m.ptxFile = v.name + ".ptx";
  m.variant = v;
  BufferNames names(func);
  func.walk([&](Operation *op) {
    if (op->getDialect()->getNamespace() != "sattn")
      return;
    ManifestStage stage;
    stage.op = op->getName().getStringRef().str();
    for (Value operand : op->getOperands())
      stage.inputs.push_back(names[operand]);
    for (Value result : op->getResults())
      stage.outputs.push_back(names[result]);
    if (auto note = op->getAttrOfType<StringAttr>("sattn.no_kernel"))
      stage.note = note.str();
    if (auto kernels = op->getAttrOfType<ArrayAttr>("sattn.kernels"))
      for (auto kernel : kernels.getAsRange<SymbolRefAttr>()) {
        stage.kernels.push_back(kernel.getLeafReference().str());
        auto gpuFunc = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
            module, kernel);
        m.kernels.push_back(
            describeKernel(gpuFunc, op, names, v.problem.seqLen()));
      }
    m.stages.push_back(std::move(stage));
  });
  m.buffers = names.buffers;
  return m;
}

/// The PTX of every kernel must have the parameters the manifest lists:
/// a mismatch would make the runtime pass arguments in the wrong slots.
llvm::Error checkPtxAgainstManifest(StringRef ptx, const Manifest &m) {
  for (const ManifestKernel &k : m.kernels) {
    std::string entry = ".entry " + k.name + "(";
    size_t start = ptx.find(entry);
    if (start == StringRef::npos)
      return llvm::createStringError("internal error: kernel " + k.name +
                                     " is missing from the PTX");
    size_t end = ptx.find(')', start);
    StringRef params = ptx.slice(start, end);
    size_t count = params.count(StringRef(k.name + "_param_"));
    if (count != k.params.size())
      return llvm::createStringError(
          "internal error: kernel " + k.name + " has " + std::to_string(count) +
          " PTX parameters, the manifest " + std::to_string(k.params.size()));
  }
  return llvm::Error::success();
}

double millisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

llvm::Expected<CompileResult> compileVariant(const VariantParams &variant,
                                             const CompileOptions &options) {
  if (auto issue = validateVariant(variant))
    return llvm::createStringError(issue->str());
  if (!isSupportedArch(options.arch))
    return llvm::createStringError(
        "target.arch: unknown value \"" + options.arch +
        "\" (allowed: sm_80, sm_90a; resolve \"auto\" before compiling)");

  if (std::string problem = options.tuning.problem(); !problem.empty())
    return llvm::createStringError(problem);

  DialectRegistry registry;
  registerCompilerDialects(registry);
  MLIRContext ctx(registry, MLIRContext::Threading::DISABLED);
  ctx.loadAllAvailableDialects();

  std::string diagnostics;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
    if (!diagnostics.empty())
      diagnostics += "\n";
    diagnostics += diag.str();
    // The notes of a failed pass dump the whole module; keep the others.
    for (const Diagnostic &note : diag.getNotes())
      if (!StringRef(note.str()).starts_with("see current operation"))
        diagnostics += "\n  note: " + note.str();
    return success();
  });

  OpBuilder b(&ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&ctx));
  func::FuncOp entry = buildEntry(b, *module, variant);
  if (failed(verify(*module)))
    return llvm::createStringError("invalid variant module: " + diagnostics);

  CompileResult result;
  auto start = std::chrono::steady_clock::now();
  PassManager kernels(&ctx);
  const TuningParams &t = options.tuning;
  ToKernelsOptions pipeline;
  pipeline.arch = options.arch;
  pipeline.attentionTemplate = t.attentionTemplate;
  pipeline.keyTile = t.keyTile;
  pipeline.stages = t.stages;
  pipeline.warpRows = t.warpRows;
  pipeline.persistent = t.persistent;
  pipeline.fuseReorder = options.fuseReorder;
  buildToKernelsPipeline(kernels, pipeline);
  if (failed(kernels.run(*module)))
    return llvm::createStringError("expanding the variant into kernels failed: " +
                                   diagnostics);
  result.expandMs = millisecondsSince(start);
  llvm::raw_string_ostream(result.mlir) << *module;
  result.manifest = collectManifest(*module, entry, variant, options.arch);

  start = std::chrono::steady_clock::now();
  PassManager lower(&ctx);
  buildKernelsToPTXPipeline(lower, options.arch, options.optLevel);
  if (failed(lower.run(*module)))
    return llvm::createStringError("lowering the kernels to PTX failed: " +
                                   diagnostics);
  result.lowerMs = millisecondsSince(start);

  if (auto binary = module->lookupSymbol<gpu::BinaryOp>("sattn_kernels")) {
    auto object = cast<gpu::ObjectAttr>(binary.getObjects()[0]);
    result.ptx = object.getObject().str();
  }
  if (llvm::Error err = checkPtxAgainstManifest(result.ptx, result.manifest))
    return std::move(err);
  return result;
}

} // namespace sattn
