//===- SattnDialect.td - The sattn dialect -----------------*- tablegen -*-===//

#ifndef SATTN_DIALECT_TD
#define SATTN_DIALECT_TD

include "mlir/IR/OpBase.td"

def Sattn_Dialect : Dialect {
  let name = "sattn";
  let cppNamespace = "::sattn";
  let summary = "Sparse attention for video diffusion transformers";
  let description = [{
    The `sattn` dialect says what a sparse-attention variant computes, not how.
    `sattn.attention` holds a whole variant (`#sattn.variant`); the
    `sattn-expand` pass turns it into the stage ops of SPEC §4 (reorder, pool,
    score, select, tail bins, sparse and linear attention, unreorder), which
    the kernel templates then instantiate as `gpu.func`s.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class Sattn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Sattn_Dialect, mnemonic, traits>;

#endif // SATTN_DIALECT_TD
