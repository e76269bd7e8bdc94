//===- VariantParams.h - A sparse-attention variant as one typed struct ---===//
//
// The variant of SPEC §3 as plain C++: parsed once (from JSON by
// VariantJson, from `#sattn.variant` by the dialect), validated once by
// `validateVariant`, and passed down to templates, passes, the runtime and
// the float64 reference. Deliberately free of MLIR and JSON headers so that
// the reference and the JSON reader (which needs exceptions, unlike code that
// includes MLIR) can use it.
//
// Every optional field's default lives here and only here; the ODS attribute
// definitions refer to these initializers.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_DIALECT_VARIANTPARAMS_H
#define SATTN_DIALECT_VARIANTPARAMS_H

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sattn {

enum class DType { BF16, FP16 };
enum class TextPosition { First, Last };
enum class ReorderKind { Identity, Tile, Hilbert2D, Hilbert3D, HWF, FWH };
enum class ScoreAggregate { SoftmaxSum, Logit };
enum class SelectionRule { TopK, TopP, Threshold };
enum class KeepGroup { Text, Diagonal, FirstFrame };
enum class Route { Sparse, Linear, Hybrid, Calibrate };
enum class Arch { Auto, SM80, SM90a };

/// The spelling of each enumerator, shared by the JSON format, the MLIR
/// assembly and the error messages (so that both front ends reject an unknown
/// value with the same words). `field` is the one variant field that uses the
/// enum.
template <typename E> struct EnumInfo;

#define SATTN_ENUM_INFO(E, FIELD, ...)                                         \
  template <> struct EnumInfo<E> {                                             \
    static constexpr const char *field = FIELD;                                \
    static constexpr std::pair<E, const char *> values[] = {__VA_ARGS__};      \
  };
SATTN_ENUM_INFO(DType, "problem.dtype", {DType::BF16, "bf16"},
                {DType::FP16, "fp16"})
SATTN_ENUM_INFO(TextPosition, "problem.text_position",
                {TextPosition::First, "first"}, {TextPosition::Last, "last"})
SATTN_ENUM_INFO(ReorderKind, "reorder.kind",
                {ReorderKind::Identity, "identity"},
                {ReorderKind::Tile, "tile"},
                {ReorderKind::Hilbert2D, "hilbert2d"},
                {ReorderKind::Hilbert3D, "hilbert3d"},
                {ReorderKind::HWF, "hwf"}, {ReorderKind::FWH, "fwh"})
SATTN_ENUM_INFO(ScoreAggregate, "scoring.aggregate",
                {ScoreAggregate::SoftmaxSum, "softmax-sum"},
                {ScoreAggregate::Logit, "logit"})
SATTN_ENUM_INFO(SelectionRule, "selection.rule", {SelectionRule::TopK, "topk"},
                {SelectionRule::TopP, "topp"},
                {SelectionRule::Threshold, "threshold"})
SATTN_ENUM_INFO(KeepGroup, "selection.keep", {KeepGroup::Text, "text"},
                {KeepGroup::Diagonal, "diagonal"},
                {KeepGroup::FirstFrame, "first_frame"})
SATTN_ENUM_INFO(Route, "linear.routing", {Route::Sparse, "sparse"},
                {Route::Linear, "linear"}, {Route::Hybrid, "hybrid"},
                {Route::Calibrate, "calibrate"})
SATTN_ENUM_INFO(Arch, "target.arch", {Arch::Auto, "auto"},
                {Arch::SM80, "sm_80"}, {Arch::SM90a, "sm_90a"})
#undef SATTN_ENUM_INFO

template <typename E> const char *toString(E value) {
  for (const auto &[e, name] : EnumInfo<E>::values)
    if (e == value)
      return name;
  return "?";
}

template <typename E> std::optional<E> parseEnum(std::string_view name) {
  for (const auto &[e, spelling] : EnumInfo<E>::values)
    if (name == spelling)
      return e;
  return std::nullopt;
}

/// "a, b, c": the allowed spellings, for error messages.
template <typename E> std::string enumSpellings() {
  std::string out;
  for (const auto &[e, name] : EnumInfo<E>::values) {
    if (!out.empty())
      out += ", ";
    out += name;
  }
  return out;
}

/// The message for an unknown enumerator, identical in JSON and MLIR.
template <typename E> std::string unknownEnumMessage(std::string_view got) {
  return "unknown value \"" + std::string(got) +
         "\" (allowed: " + enumSpellings<E>() + ")";
}

struct ProblemParams {
  int64_t batch = 1;
  int64_t heads = 0; // required
  int64_t headDim = 128;
  std::vector<int64_t> grid; // required: T, H, W of the latent video
  int64_t textTokens = 0;
  TextPosition textPosition = TextPosition::Last;
  DType dtype = DType::BF16;
  std::optional<double> scale; // default 1/sqrt(head_dim)

  int64_t videoTokens() const;
  int64_t seqLen() const { return videoTokens() + textTokens; }
  double softmaxScale() const;
  /// First token index of the video part (text tokens first or last).
  int64_t videoBegin() const {
    return textPosition == TextPosition::First ? textTokens : 0;
  }
};

struct ReorderParams {
  ReorderKind kind = ReorderKind::Identity;
  std::vector<int64_t> tile = {1, 1, 1};
};

struct BlockParams {
  int64_t q = 128;
  int64_t k = 128;
};

struct ScoringParams {
  int64_t poolQ = 16;
  int64_t poolK = 16;
  ScoreAggregate aggregate = ScoreAggregate::SoftmaxSum;
  /// Coarse to fine key-group sizes; empty means {block.k} (one level).
  std::vector<int64_t> levels;
};

struct SelectionParams {
  SelectionRule rule = SelectionRule::TopK;
  double density = 0.3;    // topk
  double p = 0.9;          // topp
  double threshold = 0.01; // threshold, on the row-normalized score
  std::vector<KeepGroup> keep = {KeepGroup::Text, KeepGroup::Diagonal};
};

struct ScheduleParams {
  int64_t denseWarmupSteps = 0;
  int64_t refreshEvery = 1;
  double densityDecay = 0.0;
  double minDensity = 0.0;
  /// [step, density] pairs, steps increasing; replaces the decay schedule.
  std::vector<std::pair<int64_t, double>> densityByStep;
};

struct AdaptiveParams {
  bool enabled = false; // true when the JSON section is present
  double targetRecall = 0.95;
  double minDensity = 0.03;
  double maxDensity = 0.5;
};

struct TailParams {
  int64_t bins = 0;
};

struct LinearParams {
  bool enabled = false;
  /// One route for every head, or one per head.
  std::vector<Route> routing = {Route::Hybrid};
};

struct TargetParams {
  Arch arch = Arch::Auto;
};

struct VariantParams {
  std::string name = "variant";
  ProblemParams problem;
  ReorderParams reorder;
  BlockParams block;
  ScoringParams scoring;
  SelectionParams selection;
  ScheduleParams schedule;
  AdaptiveParams adaptive;
  TailParams tail;
  LinearParams linear;
  TargetParams target;

  /// The key-group sizes of the scoring levels with the default filled in.
  std::vector<int64_t> levels() const {
    return scoring.levels.empty() ? std::vector<int64_t>{block.k}
                                  : scoring.levels;
  }
  int64_t numQueryBlocks() const;
  /// Number of key groups of `groupSize` tokens (the last may be partial).
  int64_t numKeyGroups(int64_t groupSize) const;
};

bool operator==(const VariantParams &a, const VariantParams &b);
inline bool operator!=(const VariantParams &a, const VariantParams &b) {
  return !(a == b);
}

/// What is wrong with a variant: the dotted field path and a message that
/// says what is wrong and ends with "(allowed: ...)".
struct VariantIssue {
  std::string field;
  std::string message;
  std::string str() const { return field + ": " + message; }
};

/// The "(allowed: ...)" text of a field, for messages about it.
std::string allowedFor(std::string_view field);
/// `message` followed by the field's allowed values.
VariantIssue fieldIssue(std::string_view field, std::string message);

/// Checks every range and every cross-field rule of SPEC §3. Returns the first
/// problem found, in field order, or nothing when the variant is valid. Both
/// the JSON reader and the `#sattn.variant` verifier call this.
std::optional<VariantIssue> validateVariant(const VariantParams &params);

/// Shortest decimal text that reads back as the same double ("0.3", "1e-05").
std::string formatDouble(double value);

} // namespace sattn

#endif // SATTN_DIALECT_VARIANTPARAMS_H
