//===- SattnDialect.h - The sattn dialect ----------------------*- C++ -*-===//

#ifndef SATTN_DIALECT_SATTNDIALECT_H
#define SATTN_DIALECT_SATTNDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialect/SattnDialect.h.inc"

#endif // SATTN_DIALECT_SATTNDIALECT_H
