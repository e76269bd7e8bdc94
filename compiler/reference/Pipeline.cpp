//===- Pipeline.cpp - A whole variant, step by step -----------------------===//

#include "compiler/reference/Pipeline.h"
#include "compiler/reference/Adaptive.h"
#include "compiler/reference/Attention.h"
#include "compiler/reference/Reorder.h"
#include "compiler/reference/Routing.h"
#include "compiler/reference/Schedule.h"
#include "compiler/reference/Score.h"

#include <algorithm>

namespace sattn::ref {

Mask computeMask(const VariantParams &variant, const Tensor &qR,
                 const Tensor &kR, double density, int64_t step) {
  Mask mask;
  mask.step = step;
  mask.order = tokenOrder(variant.problem, variant.reorder);
  mask.frames = framesOf(variant.problem, mask.order);
  std::vector<Tensor> scores = scoreLevels(variant, qR, kR);
  size_t heads = size_t(qR.dim(0) * qR.dim(1));
  mask.headDensity.assign(heads, density);
  if (variant.adaptive.enabled) {
    BlockSelection probe = selectBlocks(
        variant, mask.frames, scores,
        std::vector<double>(heads, variant.adaptive.maxDensity));
    mask.headDensity = adaptiveDensities(variant, mask.frames, probe);
  }
  mask.selection =
      selectBlocks(variant, mask.frames, scores, mask.headDensity);
  mask.tail = assignTailBins(mask.lists(), mask.selection.scores(),
                             variant.tail.bins);
  return mask;
}

namespace {

/// The routes to use: the configured ones, or calibrated on these inputs.
std::vector<Route> resolveRoutes(const VariantParams &variant,
                                 const VariantOutput &sparse, const Tensor &q,
                                 const Tensor &k, const Tensor &v) {
  if (!variant.linear.enabled)
    return {};
  std::vector<Route> routes = configuredRoutes(variant);
  if (routes.empty() || routes[0] != Route::Calibrate)
    return routes;
  const Mask &mask = *sparse.mask;
  RouteOutputs outputs = computeRoutes(
      variant.problem, mask.order, q, k, v, reorder(q, mask.order),
      reorder(k, mask.order), reorder(v, mask.order), mask.lists(),
      &sparse.tails, variant.problem.softmaxScale());
  return calibrateRoutes(outputs,
                         denseAttention(q, k, v, variant.problem.softmaxScale()));
}

} // namespace

VariantOutput attendWithMask(const VariantParams &variant,
                             std::shared_ptr<const Mask> mask, const Tensor &q,
                             const Tensor &k, const Tensor &v,
                             const std::vector<Route> &routes) {
  VariantOutput out;
  out.mask = mask;
  double scale = variant.problem.softmaxScale();
  Tensor qR = reorder(q, mask->order), kR = reorder(k, mask->order),
         vR = reorder(v, mask->order);
  out.tails = computeTailBins(kR, vR, mask->lists(), mask->tail);
  const TailBins *tail = out.tails.bins ? &out.tails : nullptr;
  out.routes = routes;
  if (!variant.linear.enabled || routes.empty()) {
    out.output = unreorder(
        sparseAttention(qR, kR, vR, mask->lists(), tail, scale), mask->order);
    return out;
  }
  out.output = assembleRoutes(computeRoutes(variant.problem, mask->order, q, k,
                                            v, qR, kR, vR, mask->lists(), tail,
                                            scale),
                              routes);
  return out;
}

VariantOutput runVariant(const VariantParams &variant, const Tensor &q,
                         const Tensor &k, const Tensor &v,
                         std::optional<double> density) {
  std::vector<int64_t> order = tokenOrder(variant.problem, variant.reorder);
  auto mask = std::make_shared<const Mask>(
      computeMask(variant, reorder(q, order), reorder(k, order),
                  density.value_or(variant.selection.density)));
  VariantOutput sparse = attendWithMask(variant, mask, q, k, v, {});
  std::vector<Route> routes = resolveRoutes(variant, sparse, q, k, v);
  VariantOutput out =
      routes.empty() ? std::move(sparse)
                     : attendWithMask(variant, mask, q, k, v, routes);
  out.refreshed = true;
  return out;
}

VariantRunner::VariantRunner(VariantParams variant)
    : params(std::move(variant)) {}

void VariantRunner::calibrate(const Tensor &q, const Tensor &k,
                              const Tensor &v) {
  routes = runVariant(params, q, k, v).routes;
}

VariantOutput VariantRunner::step(const Tensor &q, const Tensor &k,
                                  const Tensor &v, int64_t step) {
  StepPlan plan = planStep(params, step);
  if (plan.kind == StepPlan::Kind::Dense) {
    VariantOutput out;
    out.dense = true;
    out.output = denseAttention(q, k, v, params.problem.softmaxScale());
    return out;
  }
  bool refresh = plan.kind == StepPlan::Kind::Refresh || !cached ||
                 cachedRefresh != plan.refresh;
  if (refresh) {
    std::vector<int64_t> order = tokenOrder(params.problem, params.reorder);
    cached = std::make_shared<const Mask>(computeMask(
        params, reorder(q, order), reorder(k, order), plan.density, step));
    cachedRefresh = plan.refresh;
  }
  if (params.linear.enabled && routes.empty()) {
    VariantOutput sparse = attendWithMask(params, cached, q, k, v, {});
    routes = resolveRoutes(params, sparse, q, k, v);
  }
  VariantOutput out = attendWithMask(params, cached, q, k, v, routes);
  out.refreshed = refresh;
  return out;
}

} // namespace sattn::ref
