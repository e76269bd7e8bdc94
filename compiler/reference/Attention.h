//===- Attention.h - Exact softmax attention, dense and sparse --*- C++ -*-===//
//
// SPEC §4.6: each query's exact softmax over its kept keys plus its row's
// virtual keys (tail bins). Everything in float64 with the maximum
// subtracted, so the results are the mathematical values to ~1e-15.
// Inputs are [B, H, S, D]; the log-sum-exp outputs (optional) are [B, H, S]
// natural logs of Σ exp(logit) over what the query attended to, which is
// what merges partial results exactly (tail bins, the hybrid route) and what
// gives a kept set's exact softmax mass: exp(lse_kept − lse_dense).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_ATTENTION_H
#define SATTN_COMPILER_REFERENCE_ATTENTION_H

#include "compiler/reference/BlockLists.h"
#include "compiler/reference/TailBins.h"
#include "compiler/reference/Tensor.h"

#include <cstdint>
#include <vector>

namespace sattn::ref {

/// softmax(q kᵀ · scale) v over all keys.
Tensor denseAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                      double scale, Tensor *lse = nullptr);

/// Each query of block i (lists.blockQ tokens) attends exactly to the keys
/// of the groups in lists.row(b, h, i) plus, if `tail`, the row's virtual
/// keys with logit q · k̄_b · scale + logCount_b.
Tensor sparseAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                       const BlockLists &lists, const TailBins *tail,
                       double scale, Tensor *lse = nullptr);

/// The hybrid route's sparse part (SPEC §4.7): like sparseAttention without
/// tail bins, but a video query skips the video keys of its own frame (text
/// keys stay). `frames` is the frame of each position (framesOf). A query
/// left with no key gets output 0 and lse -infinity.
Tensor sparseAttentionOtherFrames(const Tensor &q, const Tensor &k,
                                  const Tensor &v, const BlockLists &lists,
                                  const std::vector<int32_t> &frames,
                                  double scale, Tensor *lse = nullptr);

/// Adds the rows' virtual keys to an attention result over kept keys
/// (o, lse from sparseAttention without tail): with mode Full the result
/// equals sparseAttention with the tail; with NormalizationOnly the tail
/// mass only grows the denominator. lseOut (optional) gets the new lse.
Tensor addVirtualKeys(const Tensor &o, const Tensor &lse, const Tensor &q,
                      const BlockLists &lists, const TailBins &tail,
                      double scale, TailMode mode, Tensor *lseOut = nullptr);

/// Merges two attention results over disjoint key sets into the result
/// over their union: (e^lseA·oA + e^lseB·oB) / (e^lseA + e^lseB), computed
/// with the larger exponent factored out. Either side may be empty
/// (lse = -infinity).
void mergeSoftmax(const double *oA, double lseA, const double *oB, double lseB,
                  int64_t d, double *out, double *lseOut);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_ATTENTION_H
