//===- KernelBuilder.cpp - Kernel signatures and global views -------------===//

#include "templates/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace sattn {

static Type globalPointerType(MLIRContext *ctx) {
  return LLVM::LLVMPointerType::get(ctx, /*addressSpace=*/1);
}

KernelParam KernelParam::buffer(MLIRContext *ctx, std::string name) {
  return {Role::Buffer, std::move(name), globalPointerType(ctx)};
}

KernelParam KernelParam::constant(MLIRContext *ctx, std::string name,
                                  std::string fill) {
  KernelParam p = buffer(ctx, std::move(name));
  p.constantFill = std::move(fill);
  return p;
}

KernelParam KernelParam::scratch(MLIRContext *ctx, std::string name) {
  KernelParam p = buffer(ctx, std::move(name));
  p.isScratch = true;
  return p;
}

KernelParam KernelParam::stride(MLIRContext *ctx, std::string buffer,
                                int64_t dim) {
  return {Role::Stride, std::move(buffer), IntegerType::get(ctx, 64), dim};
}

KernelParam KernelParam::scalar(std::string name, Type type) {
  return {Role::Scalar, std::move(name), type};
}

KernelParam KernelParam::tensorMap(MLIRContext *ctx, std::string buffer,
                                   int64_t boxColumns, int64_t boxRows,
                                   int64_t swizzle) {
  KernelParam p{Role::TensorMap, std::move(buffer),
                LLVM::LLVMPointerType::get(ctx)};
  p.boxColumns = boxColumns;
  p.boxRows = boxRows;
  p.swizzle = swizzle;
  return p;
}

gpu::GPUFuncOp createKernel(OpBuilder &builder, gpu::GPUModuleOp module,
                            StringRef name,
                            const std::vector<KernelParam> &params,
                            ArrayRef<int32_t> blockSize) {
  MLIRContext *ctx = builder.getContext();
  SmallVector<Type> types;
  for (const KernelParam &param : params)
    types.push_back(param.type);

  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = gpu::GPUFuncOp::create(builder, module.getLoc(), name,
                                     builder.getFunctionType(types, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  func.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(blockSize));

  static const char *roles[] = {"buffer", "stride", "scalar", "tensor_map"};
  SmallVector<int64_t> tensorMaps;
  for (auto [i, param] : llvm::enumerate(params)) {
    SmallVector<NamedAttribute> fields = {
        builder.getNamedAttr("role",
                             builder.getStringAttr(roles[int(param.role)])),
        builder.getNamedAttr("name", builder.getStringAttr(param.name))};
    if (param.role == KernelParam::Role::Stride)
      fields.push_back(builder.getNamedAttr(
          "dim", builder.getI64IntegerAttr(param.strideDim)));
    if (!param.constantFill.empty())
      fields.push_back(builder.getNamedAttr(
          "constant", builder.getStringAttr(param.constantFill)));
    if (param.isScratch)
      fields.push_back(
          builder.getNamedAttr("scratch", builder.getUnitAttr()));
    if (param.role == KernelParam::Role::TensorMap) {
      fields.push_back(builder.getNamedAttr(
          "box", builder.getI64ArrayAttr({param.boxColumns, param.boxRows})));
      fields.push_back(builder.getNamedAttr(
          "swizzle", builder.getI64IntegerAttr(param.swizzle)));
      tensorMaps.push_back(int64_t(i));
    }
    func.setArgAttr(i, "sattn.param", DictionaryAttr::get(ctx, fields));
  }
  // By value in the PTX parameters (sattn-tensor-map-params, after the
  // lowering to llvm.func).
  if (!tensorMaps.empty())
    func->setAttr("sattn.tensor_maps",
                  builder.getDenseI64ArrayAttr(tensorMaps));
  return func;
}

unsigned paramIndex(const std::vector<KernelParam> &params, StringRef name,
                    int64_t strideDim) {
  for (auto [i, param] : llvm::enumerate(params))
    if (param.name == name &&
        param.role != KernelParam::Role::TensorMap &&
        (strideDim < 0) == (param.role != KernelParam::Role::Stride) &&
        param.strideDim == strideDim)
      return i;
  llvm::report_fatal_error("sattn template: no kernel parameter named " + name);
}

unsigned tensorMapIndex(const std::vector<KernelParam> &params,
                        StringRef buffer) {
  for (auto [i, param] : llvm::enumerate(params))
    if (param.role == KernelParam::Role::TensorMap && param.name == buffer)
      return i;
  llvm::report_fatal_error("sattn template: no tensor map of " + buffer);
}

Value KernelOps::index(int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}
Value KernelOps::f32(double v) {
  return arith::ConstantOp::create(b, b.getF32FloatAttr(float(v)));
}
Value KernelOps::i32(int32_t v) {
  return arith::ConstantOp::create(b, b.getI32IntegerAttr(v));
}
Value KernelOps::toIndex(Value v) {
  return arith::IndexCastOp::create(b, b.getIndexType(), v);
}
Value KernelOps::add(Value x, Value y) {
  return arith::AddIOp::create(b, x, y);
}
Value KernelOps::sub(Value x, Value y) {
  return arith::SubIOp::create(b, x, y);
}
Value KernelOps::mul(Value x, Value y) {
  return arith::MulIOp::create(b, x, y);
}
Value KernelOps::div(Value x, Value y) {
  return arith::DivUIOp::create(b, x, y);
}
Value KernelOps::rem(Value x, Value y) {
  return arith::RemUIOp::create(b, x, y);
}
Value KernelOps::min(Value x, Value y) {
  return arith::MinUIOp::create(b, x, y);
}
Value KernelOps::ult(Value x, Value y) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, x, y);
}
Value KernelOps::select(Value c, Value x, Value y) {
  return arith::SelectOp::create(b, c, x, y);
}
Value KernelOps::clampCount(Value count, Value capacity) {
  Value c = toIndex(count);
  Value negative =
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, c, index(0));
  return min(select(negative, index(0), c), capacity);
}
static Value nvvmUnary(ImplicitLocOpBuilder &b, StringRef intrinsic, Value x) {
  return LLVM::CallIntrinsicOp::create(
             b, b.getF32Type(), b.getStringAttr(intrinsic), ValueRange{x})
      .getResult(0);
}
Value KernelOps::exp2(Value x) {
  return nvvmUnary(b, "llvm.nvvm.ex2.approx.ftz.f", x);
}
Value KernelOps::log2(Value x) {
  return nvvmUnary(b, "llvm.nvvm.lg2.approx.ftz.f", x);
}

void KernelOps::copy16(Value dst, Value dstOffset, Value src, Value srcOffset,
                       Value valid) {
  Value srcElements = select(valid, index(8), index(0));
  nvgpu::DeviceAsyncCopyOp::create(
      b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), dst,
      ValueRange{dstOffset}, src, ValueRange{srcOffset}, b.getIndexAttr(8),
      srcElements, b.getUnitAttr());
}

SmallVector<Value> KernelOps::ldmatrix(Value view, Value offset, Type element,
                                       bool transpose, int64_t tiles) {
  auto type = VectorType::get({tiles, 2}, element);
  Value loaded = nvgpu::LdMatrixOp::create(b, type, view, ValueRange{offset},
                                           transpose, tiles);
  SmallVector<Value> regs;
  for (int64_t i = 0; i < tiles; ++i)
    regs.push_back(vector::ExtractOp::create(b, loaded, ArrayRef<int64_t>{i}));
  return regs;
}

/// Adds `fields` to the `sattn.param` of the parameter named `name` with
/// role `role`.
static void updateParam(gpu::GPUFuncOp func, StringRef name, StringRef role,
                        ArrayRef<NamedAttribute> add) {
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    auto param = func.getArgAttrOfType<DictionaryAttr>(i, "sattn.param");
    if (!param || param.getAs<StringAttr>("name").getValue() != name ||
        param.getAs<StringAttr>("role").getValue() != role)
      continue;
    NamedAttrList fields(param);
    for (const NamedAttribute &field : add)
      fields.set(field.getName(), field.getValue());
    func.setArgAttr(i, "sattn.param", fields.getDictionary(func.getContext()));
    return;
  }
  llvm::report_fatal_error("sattn template: no " + role + " parameter named " +
                           name);
}

void setParamValue(gpu::GPUFuncOp func, StringRef name, Attribute value) {
  Builder b(func.getContext());
  updateParam(func, name, "scalar", {b.getNamedAttr("value", value)});
}

void setParamSource(gpu::GPUFuncOp func, StringRef name, StringRef source) {
  Builder b(func.getContext());
  updateParam(func, name, "scalar",
              {b.getNamedAttr("source", b.getStringAttr(source))});
}

void setScratch(gpu::GPUFuncOp func, StringRef name, ArrayRef<int64_t> shape,
                StringRef dtype, bool shared) {
  Builder b(func.getContext());
  SmallVector<NamedAttribute> fields = {
      b.getNamedAttr("shape", b.getI64ArrayAttr(shape)),
      b.getNamedAttr("dtype", b.getStringAttr(dtype))};
  if (shared)
    fields.push_back(b.getNamedAttr("shared", b.getUnitAttr()));
  updateParam(func, name, "buffer", fields);
}

Value globalView(ImplicitLocOpBuilder &b, Value pointer, Type element) {
  MLIRContext *ctx = b.getContext();
  Type i64 = b.getI64Type();
  Type ptr = pointer.getType();
  auto array = LLVM::LLVMArrayType::get(i64, 1);
  auto descriptorType =
      LLVM::LLVMStructType::getLiteral(ctx, {ptr, ptr, i64, array, array});
  // The size is not known to the kernel and is never read after lowering;
  // the largest index keeps the view honest about being unbounded.
  Value size = LLVM::ConstantOp::create(b, i64, int64_t(INT64_MAX));
  Value zero = LLVM::ConstantOp::create(b, i64, int64_t(0));
  Value one = LLVM::ConstantOp::create(b, i64, int64_t(1));
  Value d = LLVM::PoisonOp::create(b, descriptorType);
  d = LLVM::InsertValueOp::create(b, d, pointer, ArrayRef<int64_t>{0});
  d = LLVM::InsertValueOp::create(b, d, pointer, ArrayRef<int64_t>{1});
  d = LLVM::InsertValueOp::create(b, d, zero, ArrayRef<int64_t>{2});
  d = LLVM::InsertValueOp::create(b, d, size, ArrayRef<int64_t>{3, 0});
  d = LLVM::InsertValueOp::create(b, d, one, ArrayRef<int64_t>{4, 0});
  auto memrefType = MemRefType::get(
      {ShapedType::kDynamic}, element, MemRefLayoutAttrInterface{},
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Global));
  return UnrealizedConversionCastOp::create(b, memrefType, d).getResult(0);
}

} // namespace sattn
