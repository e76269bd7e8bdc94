//===- KernelBuilder.h - Building a kernel's signature and views -*- C++ -*-===//
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
/// elements), or a scalar.
struct KernelParam {
  enum class Role { Buffer, Stride, Scalar };
  Role role;
  std::string name;   // buffer or scalar name; for strides the buffer's
  mlir::Type type;    // !llvm.ptr<1>, i32, i64 or f32
  int64_t strideDim = -1;

  static KernelParam buffer(mlir::MLIRContext *ctx, std::string name);
  static KernelParam stride(mlir::MLIRContext *ctx, std::string buffer,
                            int64_t dim);
  static KernelParam scalar(std::string name, mlir::Type type);
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

/// Records the value the runtime passes for scalar parameter `name`.
void setParamValue(mlir::gpu::GPUFuncOp func, llvm::StringRef name,
                   mlir::Attribute value);

/// A `memref<?xelement, global>` view of a raw global pointer.
mlir::Value globalView(mlir::ImplicitLocOpBuilder &b, mlir::Value pointer,
                       mlir::Type element);

} // namespace sattn

#endif // SATTN_TEMPLATES_KERNELBUILDER_H
