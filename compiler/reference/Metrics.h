//===- Metrics.h - How far a sparse output is from dense --------*- C++ -*-===//
//
// SPEC §4 metrics, all against dense attention on the same inputs:
//   MSE          mean over all elements of (o − o_dense)²;
//   relative L2  ‖o − o_dense‖ / ‖o_dense‖;
//   recall       the exact softmax mass the kept real keys carry, averaged
//                over queries: exp(lse_kept − lse_dense) per query;
//   density      kept (query, key) pairs / all pairs (BlockLists.h).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_METRICS_H
#define SATTN_COMPILER_REFERENCE_METRICS_H

#include "compiler/reference/BlockLists.h"
#include "compiler/reference/Tensor.h"

#include <vector>

namespace sattn::ref {

double meanSquaredError(const Tensor &o, const Tensor &dense);
double relativeL2(const Tensor &o, const Tensor &dense);

/// Mean over queries of exp(keptLse − denseLse) ([B, H, S] each).
double meanRecall(const Tensor &keptLse, const Tensor &denseLse);
/// The same per head (index b·H + h), averaged over the head's queries.
std::vector<double> headRecall(const Tensor &keptLse, const Tensor &denseLse);

/// The log-sum-exp of each query over the keys its row keeps (q, k in the
/// order the lists refer to), for recall.
Tensor keptLogSumExp(const Tensor &q, const Tensor &k, const BlockLists &lists,
                     double scale);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_METRICS_H
