//===- GridFormula.h - Grids from the manifest's formulas -------*- C++ -*-===//
//-*-===//
//
// The manifest gives each kernel's grid as formulas over the problem sizes
// ("ceildiv(S, 128)", "H", "B"), so that the runtime launches a variant's
// kernels for the sizes of the call without per-variant host code. The
// language: integers, names bound by the caller (S, H, B, ...), + - *,
// parentheses, and ceildiv(a, b), min(a, b), max(a, b).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_GRIDFORMULA_H
#define SATTN_RUNTIME_GRIDFORMULA_H

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace sattn {

/// The value of `formula` with `names` bound, or nothing with `error` set
/// (a syntax error, an unknown name, a division by zero, or a value outside
/// [0, 2^31)).
std::optional<int64_t>
evaluateGridFormula(const std::string &formula,
                    const std::map<std::string, int64_t> &names,
                    std::string *error);

} // namespace sattn

#endif // SATTN_RUNTIME_GRIDFORMULA_H
