//===- sattn-opt.cpp - mlir-opt with the sattn dialect and passes ---------===//
//
// The driver of the lit tests: every dialect the compiler uses, the sattn
// passes and pipelines, and the upstream passes they are built from.
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  sattn::registerSattnPasses();
  sattn::registerSattnPipelines();
  mlir::DialectRegistry registry;
  sattn::registerCompilerDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "sattn optimizer driver: the sattn dialect and passes\n",
      registry));
}
