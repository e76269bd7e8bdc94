//===- Routing.h - Per-head sparse, linear or hybrid output -----*- C++ -*-===//
//
// SPEC §4.7 (SparseFlow's head-wise routing). Per head:
//   sparse  the sparse output (kept keys + tail bins);
//   linear  o_lin for video queries (LinearAttention.h);
//   hybrid  sparse attention to everything but the query's own frame (text
//           keys stay) merged with the linear path over its own frame by
//           their softmax / normalizer weights:
//             o = (exp(lse_s) · o_s + Z · o_lin) / (exp(lse_s) + Z).
//           The hybrid sparse part takes no tail bins: a row's bins are
//           shared by its queries, while the frame each query leaves to the
//           linear path differs, so bins would count those keys twice.
// Text queries use the sparse output under every route.
// `calibrate` picks, per head, the route with the lowest MSE against dense
// attention on calibration inputs (ties: sparse, then linear, then hybrid).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_ROUTING_H
#define SATTN_COMPILER_REFERENCE_ROUTING_H

#include "compiler/reference/BlockLists.h"
#include "compiler/reference/TailBins.h"
#include "compiler/reference/Tensor.h"
#include "dialect/VariantParams.h"

#include <vector>

namespace sattn::ref {

/// Each route's output for every head, in original order.
struct RouteOutputs {
  Tensor sparse, linear, hybrid;
  const Tensor &of(Route route) const;
};

/// q, k, v in original order; qR, kR, vR reordered by `order`, which the
/// lists and tail refer to.
RouteOutputs computeRoutes(const ProblemParams &problem,
                           const std::vector<int64_t> &order, const Tensor &q,
                           const Tensor &k, const Tensor &v, const Tensor &qR,
                           const Tensor &kR, const Tensor &vR,
                           const BlockLists &lists, const TailBins *tail,
                           double scale);

/// linear.routing for every head (one entry for all heads or one per head);
/// Route::Calibrate when the routes are to be calibrated.
std::vector<Route> configuredRoutes(const VariantParams &variant);

/// The output of head h from routes[h].
Tensor assembleRoutes(const RouteOutputs &outputs,
                      const std::vector<Route> &routes);

/// Per head, the route with the lowest MSE against `dense`.
std::vector<Route> calibrateRoutes(const RouteOutputs &outputs,
                                   const Tensor &dense);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_ROUTING_H
