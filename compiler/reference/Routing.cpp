//===- Routing.cpp - Per-head sparse, linear or hybrid output -------------===//

#include "compiler/reference/Routing.h"
#include "compiler/reference/Attention.h"
#include "compiler/reference/LinearAttention.h"
#include "compiler/reference/Reorder.h"

#include <algorithm>
#include <cmath>

namespace sattn::ref {

const Tensor &RouteOutputs::of(Route route) const {
  switch (route) {
  case Route::Linear:
    return linear;
  case Route::Hybrid:
    return hybrid;
  default:
    return sparse;
  }
}

RouteOutputs computeRoutes(const ProblemParams &problem,
                           const std::vector<int64_t> &order, const Tensor &q,
                           const Tensor &k, const Tensor &v, const Tensor &qR,
                           const Tensor &kR, const Tensor &vR,
                           const BlockLists &lists, const TailBins *tail,
                           double scale) {
  RouteOutputs out;
  out.sparse = unreorder(sparseAttention(qR, kR, vR, lists, tail, scale),
                         order);
  Tensor logZ, lseOther;
  Tensor linear = linearAttention(problem, q, k, v, &logZ);
  Tensor other = unreorder(sparseAttentionOtherFrames(qR, kR, vR, lists,
                                                      framesOf(problem, order),
                                                      scale, &lseOther),
                           order);
  lseOther = unreorder(lseOther, order);

  out.linear = out.sparse;
  out.hybrid = out.sparse;
  int64_t b = q.dim(0), h = q.dim(1), d = q.dim(3);
  int64_t begin = problem.videoBegin(), end = begin + problem.videoTokens();
  for (int64_t ib = 0; ib < b; ++ib)
    for (int64_t ih = 0; ih < h; ++ih)
      for (int64_t t = begin; t < end; ++t) {
        std::copy_n(linear.row(ib, ih, t), d, out.linear.row(ib, ih, t));
        double lse;
        mergeSoftmax(other.row(ib, ih, t), lseOther(ib, ih, t),
                     linear.row(ib, ih, t), logZ(ib, ih, t), d,
                     out.hybrid.row(ib, ih, t), &lse);
      }
  return out;
}

std::vector<Route> configuredRoutes(const VariantParams &variant) {
  const std::vector<Route> &routing = variant.linear.routing;
  if (routing.size() == 1)
    return std::vector<Route>(size_t(variant.problem.heads), routing[0]);
  return routing;
}

Tensor assembleRoutes(const RouteOutputs &outputs,
                      const std::vector<Route> &routes) {
  Tensor out = outputs.sparse;
  int64_t b = out.dim(0), h = out.dim(1), s = out.dim(2), d = out.dim(3);
  for (int64_t ib = 0; ib < b; ++ib)
    for (int64_t ih = 0; ih < h; ++ih)
      std::copy_n(outputs.of(routes[size_t(ih)]).row(ib, ih, 0), s * d,
                  out.row(ib, ih, 0));
  return out;
}

std::vector<Route> calibrateRoutes(const RouteOutputs &outputs,
                                   const Tensor &dense) {
  int64_t b = dense.dim(0), h = dense.dim(1), s = dense.dim(2),
          d = dense.dim(3);
  std::vector<Route> routes(size_t(h), Route::Sparse);
  for (int64_t ih = 0; ih < h; ++ih) {
    double best = INFINITY;
    for (Route route : {Route::Sparse, Route::Linear, Route::Hybrid}) {
      double error = 0;
      const Tensor &o = outputs.of(route);
      for (int64_t ib = 0; ib < b; ++ib)
        for (int64_t e = 0; e < s * d; ++e) {
          double diff = o.row(ib, ih, 0)[e] - dense.row(ib, ih, 0)[e];
          error += diff * diff;
        }
      if (error < best) {
        best = error;
        routes[size_t(ih)] = route;
      }
    }
  }
  return routes;
}

} // namespace sattn::ref
