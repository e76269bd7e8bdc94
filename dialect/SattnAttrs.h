//===- SattnAttrs.h - #sattn.variant and its section attributes -----------===//

#ifndef SATTN_DIALECT_SATTNATTRS_H
#define SATTN_DIALECT_SATTNATTRS_H

#include "dialect/VariantParams.h"

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/SmallVector.h"

#include <cstring>

namespace sattn {

/// A double as an attribute parameter. Storage uniquing needs hashing and
/// equality, which llvm::hash_value does not give plain doubles; equality is
/// bitwise so that hashing and equality agree.
struct F64 {
  double value = 0;
  bool operator==(const F64 &other) const {
    return std::memcmp(&value, &other.value, sizeof value) == 0;
  }
};
inline llvm::hash_code hash_value(const F64 &x) {
  uint64_t bits;
  std::memcpy(&bits, &x.value, sizeof bits);
  return llvm::hash_value(bits);
}

/// One `[step, density]` pair of schedule.density_by_step.
struct StepDensity {
  int64_t step = 0;
  F64 density;
  bool operator==(const StepDensity &other) const {
    return step == other.step && density == other.density;
  }
};
inline llvm::hash_code hash_value(const StepDensity &x) {
  return llvm::hash_combine(x.step, x.density);
}

// Defaults of list parameters, from the VariantParams initializers.
llvm::SmallVector<int64_t> defaultReorderTile();
llvm::SmallVector<KeepGroup> defaultKeep();
llvm::SmallVector<Route> defaultRouting();

//===----------------------------------------------------------------------===//
// Parameter syntax shared by all section attributes: the JSON spellings.
//===----------------------------------------------------------------------===//

template <typename T, typename = void> struct FieldSyntax;

template <> struct FieldSyntax<int64_t> {
  static mlir::FailureOr<int64_t> parse(mlir::AsmParser &parser) {
    int64_t value;
    if (parser.parseInteger(value))
      return mlir::failure();
    return value;
  }
  static void print(mlir::AsmPrinter &printer, int64_t value) {
    printer << value;
  }
};

template <> struct FieldSyntax<F64> {
  static mlir::FailureOr<F64> parse(mlir::AsmParser &parser) {
    double value;
    if (parser.parseFloat(value))
      return mlir::failure();
    return F64{value};
  }
  static void print(mlir::AsmPrinter &printer, F64 value) {
    printer << formatDouble(value.value);
  }
};

template <> struct FieldSyntax<std::optional<F64>> {
  static mlir::FailureOr<std::optional<F64>> parse(mlir::AsmParser &parser) {
    auto value = FieldSyntax<F64>::parse(parser);
    if (mlir::failed(value))
      return mlir::failure();
    return std::optional<F64>(*value);
  }
};

/// Enums are spelled by their JSON names, as keywords where MLIR allows
/// (`hilbert3d`) and quoted otherwise (`"softmax-sum"`). An unknown name is
/// reported with the same words as the JSON reader uses.
template <typename E>
struct FieldSyntax<E, std::enable_if_t<std::is_enum_v<E>>> {
  static mlir::FailureOr<E> parse(mlir::AsmParser &parser) {
    llvm::SMLoc loc = parser.getCurrentLocation();
    std::string name;
    if (parser.parseKeywordOrString(&name))
      return mlir::failure();
    if (auto value = parseEnum<E>(name))
      return *value;
    return parser.emitError(loc)
           << EnumInfo<E>::field << ": " << unknownEnumMessage<E>(name);
  }
  static void print(mlir::AsmPrinter &printer, E value) {
    printer.printKeywordOrString(toString(value));
  }
};

template <> struct FieldSyntax<StepDensity> {
  static mlir::FailureOr<StepDensity> parse(mlir::AsmParser &parser) {
    StepDensity pair;
    double density;
    if (parser.parseLSquare() || parser.parseInteger(pair.step) ||
        parser.parseComma() || parser.parseFloat(density) ||
        parser.parseRSquare())
      return mlir::failure();
    pair.density = F64{density};
    return pair;
  }
  static void print(mlir::AsmPrinter &printer, const StepDensity &pair) {
    printer << "[" << pair.step << ", " << formatDouble(pair.density.value)
            << "]";
  }
};

/// Lists in square brackets, possibly empty.
template <typename T> struct FieldSyntax<llvm::SmallVector<T>> {
  static mlir::FailureOr<llvm::SmallVector<T>> parse(mlir::AsmParser &parser) {
    llvm::SmallVector<T> values;
    if (parser.parseCommaSeparatedList(
            mlir::AsmParser::Delimiter::Square, [&]() -> mlir::ParseResult {
              auto value = FieldSyntax<T>::parse(parser);
              if (mlir::failed(value))
                return mlir::failure();
              values.push_back(*value);
              return mlir::success();
            }))
      return mlir::failure();
    return values;
  }
  static void print(mlir::AsmPrinter &printer, llvm::ArrayRef<T> values) {
    printer << "[";
    llvm::interleaveComma(values, printer.getStream(), [&](const T &value) {
      FieldSyntax<T>::print(printer, value);
    });
    printer << "]";
  }
};

template <typename T> mlir::FailureOr<T> parseField(mlir::AsmParser &parser) {
  return FieldSyntax<T>::parse(parser);
}
template <typename T> void printField(mlir::AsmPrinter &printer, const T &v) {
  FieldSyntax<T>::print(printer, v);
}
template <typename T>
void printField(mlir::AsmPrinter &printer, llvm::ArrayRef<T> values) {
  FieldSyntax<llvm::SmallVector<T>>::print(printer, values);
}

} // namespace sattn

#define GET_ATTRDEF_CLASSES
#include "dialect/SattnAttrs.h.inc"

#endif // SATTN_DIALECT_SATTNATTRS_H
