//===- VariantJson.h - The variant JSON format (SPEC §3) ------------------===//
//
// Reads and writes variant files. The reader fills every optional field with
// its default, rejects unknown fields, wrong types and invalid values with the
// field's dotted path, and finishes with validateVariant(). The writer emits
// every field (defaults included), so read(write(v)) == v.
//
// This translation unit is compiled with exceptions (nlohmann/json throws);
// none escapes it.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_DIALECT_VARIANTJSON_H
#define SATTN_DIALECT_VARIANTJSON_H

#include "dialect/VariantParams.h"

#include <optional>
#include <string>
#include <string_view>

namespace sattn {

/// Either a valid variant or the first thing wrong with the input. Problems
/// with the document as a whole (empty, not JSON, too large) use the field
/// name "document".
struct VariantResult {
  std::optional<VariantParams> variant;
  VariantIssue issue;
  explicit operator bool() const { return variant.has_value(); }
};

/// Variant files are small; anything larger is rejected before parsing.
constexpr size_t kMaxVariantFileBytes = 1 << 20;

VariantResult parseVariantJson(std::string_view text);
/// Reads `path` (size-checked first) and parses it.
VariantResult readVariantFile(const std::string &path);
/// Every field, in SPEC §3 order, indented by `indent` spaces (-1: one line).
std::string writeVariantJson(const VariantParams &variant, int indent = 2);

} // namespace sattn

#endif // SATTN_DIALECT_VARIANTJSON_H
