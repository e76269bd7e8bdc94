//===- Pipeline.h - A whole variant, step by step ---------------*- C++ -*-===//
//
// SPEC §4 end to end: reorder q, k, v (π); pool and score every level;
// select (adaptive per-head densities when enabled); cut the tail bins;
// attend; route per head through the linear path when enabled; unreorder.
// Across steps (Schedule.h) the mask (index lists and bin membership) is
// computed at refreshes and reused in between, while the tail bins' keys and
// values are recomputed from each step's k and v.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_PIPELINE_H
#define SATTN_COMPILER_REFERENCE_PIPELINE_H

#include "compiler/reference/Select.h"
#include "compiler/reference/TailBins.h"
#include "compiler/reference/Tensor.h"
#include "dialect/VariantParams.h"

#include <memory>
#include <optional>
#include <vector>

namespace sattn::ref {

/// What a refresh computes and later steps reuse.
struct Mask {
  std::vector<int64_t> order;  // tokenOrder
  std::vector<int32_t> frames; // framesOf(order)
  BlockSelection selection;    // every level's scores and lists
  TailMembership tail;         // the bins' groups (variant.tail.bins)
  /// The topk density of each (b, h) (index b·H + h): the schedule's, or
  /// the adaptive one.
  std::vector<double> headDensity;
  int64_t step = -1; // the step that computed it

  const BlockLists &lists() const { return selection.lists(); }
};

/// The mask for reordered qR, kR at `density` for every head (replaced per
/// head by the adaptive density when variant.adaptive.enabled).
Mask computeMask(const VariantParams &variant, const Tensor &qR,
                 const Tensor &kR, double density, int64_t step = 0);

struct VariantOutput {
  Tensor output;          // [B, H, S, D], original order
  bool dense = false;     // a warm-up step: dense attention, no mask
  bool refreshed = false; // the mask was computed at this step
  std::shared_ptr<const Mask> mask;
  TailBins tails;           // this step's bins, reordered space
  std::vector<Route> routes; // per head, when linear.enabled
};

/// Attends with `mask` (bins recomputed from this k, v): the sparse output,
/// or with linear.enabled each head's route from `routes`.
VariantOutput attendWithMask(const VariantParams &variant,
                             std::shared_ptr<const Mask> mask, const Tensor &q,
                             const Tensor &k, const Tensor &v,
                             const std::vector<Route> &routes);

/// One step computed as a refresh at `density` (default selection.density;
/// adaptive when enabled). With linear.routing = calibrate the routes are
/// calibrated on these same inputs.
VariantOutput runVariant(const VariantParams &variant, const Tensor &q,
                         const Tensor &k, const Tensor &v,
                         std::optional<double> density = std::nullopt);

/// Runs a variant across denoising steps with the schedule's mask caching.
class VariantRunner {
public:
  explicit VariantRunner(VariantParams variant);

  /// Chooses the routes of linear.routing = calibrate from these inputs
  /// (plan time). Without it the first non-dense step calibrates.
  void calibrate(const Tensor &q, const Tensor &k, const Tensor &v);

  /// Step `step` (0-based). Steps should come in order; a step that reuses
  /// a mask no earlier call computed computes it from its own inputs.
  VariantOutput step(const Tensor &q, const Tensor &k, const Tensor &v,
                     int64_t step);

  const VariantParams &variant() const { return params; }

private:
  VariantParams params;
  std::shared_ptr<const Mask> cached;
  int64_t cachedRefresh = -1;
  std::vector<Route> routes;
};

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_PIPELINE_H
