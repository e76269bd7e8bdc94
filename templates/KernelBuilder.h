//===- KernelBuilder.h - Building a kernel's signature and views -*- C++
//-*-===//
//
// Shared by the templates: a `gpu.func` whose parameters are raw global
// pointers and scalars, one PTX parameter each, each tagged with its role for
// the manifest (`sattn.param`), and 1-D memref views of those pointers.
//
// Why raw pointers: a memref argument expands to 3 + 2*rank PTX parameters,
// and the bare-pointer convention needs static shapes. A pointer parameter
// plus a memref descriptor built inside the kernel gives one parameter per
// buffer and dynamic sizes, and lowers to the same loads.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_TEMPLATES_KERNELBUILDER_H
#define SATTN_TEMPLATES_KERNELBUILDER_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <string>
#include <vector>

namespace sattn {

/// One kernel parameter: a buffer (global pointer), a stride of a buffer (in
/// elements), a scalar, or a TMA tensor map of a buffer (sm_90a: a 128-byte
/// CUtensorMap passed by value, which the runtime encodes per call from the
/// buffer's address and strides; see sattn-tensor-map-params).
struct KernelParam {
  enum class Role { Buffer, Stride, Scalar, TensorMap };
  Role role;
  std::string name; // buffer or scalar name; for strides and tensor maps
                    // the buffer's
  mlir::Type type;  // !llvm.ptr<1>, i32, i64 or f32; !llvm.ptr for maps
  int64_t strideDim = -1;
  /// Tensor maps: the box the kernel loads, in elements (head_dim columns,
  /// rows), and the shared-memory swizzle in bytes (0, 32, 64 or 128).
  int64_t boxColumns = 0, boxRows = 0, swizzle = 0;
  /// Buffers not bound to the stage op's operands or results: a constant
  /// table the runtime fills at plan creation (its fill, manifest.h
  /// kConstantFills), or a scratch buffer private to the op's kernels
  /// (shape and dtype set by the instantiation pass, setScratch).
  std::string constantFill;
  bool isScratch = false;

  static KernelParam buffer(mlir::MLIRContext *ctx, std::string name);
  static KernelParam constant(mlir::MLIRContext *ctx, std::string name,
                              std::string fill);
  static KernelParam scratch(mlir::MLIRContext *ctx, std::string name);
  static KernelParam stride(mlir::MLIRContext *ctx, std::string buffer,
                            int64_t dim);
  static KernelParam scalar(std::string name, mlir::Type type);
  static KernelParam tensorMap(mlir::MLIRContext *ctx, std::string buffer,
                               int64_t boxColumns, int64_t boxRows,
                               int64_t swizzle);
};

/// Creates `gpu.func @name(params) kernel` in `module` with the launch shape
/// attributes and an entry block whose builder is returned in `body`.
mlir::gpu::GPUFuncOp createKernel(mlir::OpBuilder &builder,
                                  mlir::gpu::GPUModuleOp module,
                                  llvm::StringRef name,
                                  const std::vector<KernelParam> &params,
                                  llvm::ArrayRef<int32_t> blockSize);

/// Index of the parameter named `name` (for strides: the buffer's `dim`).
unsigned paramIndex(const std::vector<KernelParam> &params,
                    llvm::StringRef name, int64_t strideDim = -1);
/// Index of the tensor map of buffer `buffer`.
unsigned tensorMapIndex(const std::vector<KernelParam> &params,
                        llvm::StringRef buffer);

/// Small arithmetic helpers over an ImplicitLocOpBuilder, shared by the
/// templates: index constants and math, f32 constants, and NVVM's fast
/// base-2 exponential and logarithm.
class KernelOps {
public:
  explicit KernelOps(mlir::ImplicitLocOpBuilder &b) : b(b) {}

  mlir::Value index(int64_t v);
  mlir::Value f32(double v);
  mlir::Value i32(int32_t v);
  /// i32/i64 -> index (signed).
  mlir::Value toIndex(mlir::Value v);
  mlir::Value add(mlir::Value x, mlir::Value y);
  mlir::Value sub(mlir::Value x, mlir::Value y);
  mlir::Value mul(mlir::Value x, mlir::Value y);
  mlir::Value div(mlir::Value x, mlir::Value y); // unsigned
  mlir::Value rem(mlir::Value x, mlir::Value y); // unsigned
  mlir::Value min(mlir::Value x, mlir::Value y); // unsigned
  mlir::Value ult(mlir::Value x, mlir::Value y);
  mlir::Value select(mlir::Value c, mlir::Value x, mlir::Value y);
  /// An i32 count as an index clamped into [0, capacity].
  mlir::Value clampCount(mlir::Value count, mlir::Value capacity);
  /// One MUFU instruction each (ex2/lg2.approx.ftz); the math-dialect ops
  /// would become libdevice calls, which a JIT without the CUDA Toolkit
  /// cannot link.
  mlir::Value exp2(mlir::Value x);
  mlir::Value log2(mlir::Value x);
  /// A 16-byte cp.async of 8 16-bit elements from `src` to shared `dst`,
  /// zero-filled unless `valid`.
  void copy16(mlir::Value dst, mlir::Value dstOffset, mlir::Value src,
              mlir::Value srcOffset, mlir::Value valid);
  /// `tiles` (1, 2 or 4) 8x8 matrices of 16-bit `element`s from shared
  /// memory at `offset` (ldmatrix, optionally transposed), as one 32-bit
  /// register (vector<2 x element>) each.
  llvm::SmallVector<mlir::Value> ldmatrix(mlir::Value view, mlir::Value offset,
                                          mlir::Type element, bool transpose,
                                          int64_t tiles);

  mlir::ImplicitLocOpBuilder &b;
};

/// log2(e) and ln(2): the kernels exponentiate in base 2.
constexpr double kLog2e = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

/// Records the value the runtime passes for scalar parameter `name`.
void setParamValue(mlir::gpu::GPUFuncOp func, llvm::StringRef name,
                   mlir::Attribute value);

/// Records that scalar parameter `name` is set by the runtime per step
/// (manifest source "density" or "dense").
void setParamSource(mlir::gpu::GPUFuncOp func, llvm::StringRef name,
                    llvm::StringRef source);

/// Records the shape and dtype of scratch buffer parameter `name`. A
/// scratch buffer is the stage op's own (`<stage>.<name>` in the manifest),
/// or with `shared` one buffer called `name` that several ops' kernels
/// write and read (in stage order).
void setScratch(mlir::gpu::GPUFuncOp func, llvm::StringRef name,
                llvm::ArrayRef<int64_t> shape, llvm::StringRef dtype,
                bool shared = false);

/// A `memref<?xelement, global>` view of a raw global pointer.
mlir::Value globalView(mlir::ImplicitLocOpBuilder &b, mlir::Value pointer,
                       mlir::Type element);

} // namespace sattn

#endif // SATTN_TEMPLATES_KERNELBUILDER_H
