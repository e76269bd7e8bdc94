//===- Schedule.h - Which mask each denoising step uses ---------*- C++ -*-===//
//
// SPEC §4, across steps (0-based; one step = one forward pass, so
// classifier-free guidance counts two per denoising step). DFSAttn's
// schedule: steps before schedule.dense_warmup_steps run dense; the mask is
// recomputed ("refreshed") at warmup, warmup + R, warmup + 2R, ...
// (R = refresh_every) and reused in between. Refresh j uses the density
// max(min_density, selection.density − j · density_decay) (an absolute
// decrement); once the density has reached min_density (with a decay > 0)
// the mask is no longer refreshed. With density_by_step the density of a
// refresh at step s is piecewise linear between the given [step, density]
// points and constant beyond the ends, and refreshes go on every R steps.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_SCHEDULE_H
#define SATTN_COMPILER_REFERENCE_SCHEDULE_H

#include "dialect/VariantParams.h"

#include <cstdint>

namespace sattn::ref {

struct StepPlan {
  enum class Kind { Dense, Refresh, Reuse };
  Kind kind = Kind::Dense;
  /// The refresh whose mask the step uses (-1 on dense steps), the step it
  /// happened at, and its schedule density.
  int64_t refresh = -1;
  int64_t refreshStep = -1;
  double density = 1.0;
};

StepPlan planStep(const VariantParams &variant, int64_t step);

/// The density_by_step curve at `step`.
double interpolateDensity(
    const std::vector<std::pair<int64_t, double>> &points, int64_t step);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_SCHEDULE_H
