//===- Registration.h - Dialects the compiler needs -------------*- C++ -*-===//

#ifndef SATTN_COMPILER_REGISTRATION_H
#define SATTN_COMPILER_REGISTRATION_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace sattn {

/// Every dialect, conversion interface and LLVM IR translation that the
/// sattn-to-ptx pipeline touches; a missing one is a run-time error deep in
/// the pipeline, so they are listed in this one place.
void registerCompilerDialects(mlir::DialectRegistry &registry);

} // namespace sattn

#endif // SATTN_COMPILER_REGISTRATION_H
