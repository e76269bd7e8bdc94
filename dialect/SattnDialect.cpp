//===- SattnDialect.cpp - The sattn dialect -------------------------------===//

#include "dialect/SattnDialect.h"
#include "dialect/SattnOps.h"

#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;

#include "dialect/SattnDialect.cpp.inc"

namespace {
/// Prints each variant once at the top of the module as `#variant = ...`
/// (or `#<its name>`), so that ops refer to it by name.
struct SattnOpAsmInterface : public OpAsmDialectInterface {
  using OpAsmDialectInterface::OpAsmDialectInterface;

  AliasResult getAlias(Attribute attr, raw_ostream &os) const override {
    if (auto variant = dyn_cast<sattn::VariantAttr>(attr)) {
      // Alias names are bare identifiers: letters, digits, '_', '.', and not
      // a digit first ("wan2.1-480p" becomes #wan2.1_480p).
      std::string name = variant.getName().str();
      for (char &c : name)
        if (!llvm::isAlnum(c) && c != '_' && c != '.')
          c = '_';
      if (name.empty() || llvm::isDigit(name.front()))
        name = "v" + name;
      os << name;
      return AliasResult::FinalAlias;
    }
    return AliasResult::NoAlias;
  }
};
} // namespace

void sattn::SattnDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "dialect/SattnOps.cpp.inc"
      >();
  addInterfaces<SattnOpAsmInterface>();
}
