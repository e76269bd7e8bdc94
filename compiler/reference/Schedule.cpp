//===- Schedule.cpp - Which mask each denoising step uses -----------------===//

#include "compiler/reference/Schedule.h"

#include <algorithm>
#include <limits>

namespace sattn::ref {

double interpolateDensity(
    const std::vector<std::pair<int64_t, double>> &points, int64_t step) {
  if (step <= points.front().first)
    return points.front().second;
  if (step >= points.back().first)
    return points.back().second;
  size_t i = 1;
  while (points[i].first < step)
    ++i;
  auto [s0, d0] = points[i - 1];
  auto [s1, d1] = points[i];
  double f = double(step - s0) / double(s1 - s0);
  return d0 + f * (d1 - d0);
}

StepPlan planStep(const VariantParams &variant, int64_t step) {
  const ScheduleParams &schedule = variant.schedule;
  StepPlan plan;
  if (step < schedule.denseWarmupSteps)
    return plan;
  int64_t since = step - schedule.denseWarmupSteps;
  int64_t slot = since / schedule.refreshEvery;
  bool onRefreshStep = since % schedule.refreshEvery == 0;

  auto decayed = [&](int64_t j) {
    return std::max(schedule.minDensity, variant.selection.density -
                                             double(j) * schedule.densityDecay);
  };
  // The last refresh: the first whose density reached min_density (a small
  // tolerance, since 0.3 − 2 · 0.1 is 0.09999999999999998 in doubles).
  int64_t last = std::numeric_limits<int64_t>::max();
  if (schedule.densityByStep.empty() && schedule.densityDecay > 0) {
    last = 0;
    while (decayed(last) > schedule.minDensity + 1e-12)
      ++last;
  }
  plan.refresh = std::min(slot, last);
  plan.refreshStep =
      schedule.denseWarmupSteps + plan.refresh * schedule.refreshEvery;
  plan.kind = onRefreshStep && slot <= last ? StepPlan::Kind::Refresh
                                            : StepPlan::Kind::Reuse;
  plan.density = schedule.densityByStep.empty()
                     ? decayed(plan.refresh)
                     : interpolateDensity(schedule.densityByStep,
                                          plan.refreshStep);
  return plan;
}

} // namespace sattn::ref
