//===- SattnOps.h - sattn.attention and the stage ops ----------*- C++ -*-===//

#ifndef SATTN_DIALECT_SATTNOPS_H
#define SATTN_DIALECT_SATTNOPS_H

#include "dialect/SattnAttrs.h"
#include "dialect/SattnDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialect/SattnOps.h.inc"

#endif // SATTN_DIALECT_SATTNOPS_H
