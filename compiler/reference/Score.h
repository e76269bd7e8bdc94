//===- Score.h - Block scores of key groups, per level ----------*- C++ -*-===//
//
// SPEC §4.3: how much attention query block i is estimated to pay to key
// group j, from pooled tokens (reordered order).
//
//   softmax-sum (DFSAttn's hierarchical block scoring): tile logits
//     q̄_a · k̄_c · scale between query tiles a (scoring.pool.q tokens) and
//     key tiles c (scoring.pool.k tokens), a softmax over ALL key tiles of
//     the sequence for each query tile, and score(i, j) = the sum of those
//     probabilities over the query tiles inside block i and the key tiles
//     inside group j. A row sums to the number of query tiles in the block.
//   logit: s[i, j] = q̄_i · k̄_j · scale + log n_j with block-level means
//     (q̄ over the query block, k̄ over the group, n_j its token count):
//     the log of n_j · exp(mean logit), UTA's aggregated logit of the group.
//
// These functions score every group ("real" scores). Top-down refinement
// (SPEC §4.3 levels) replaces the scores of groups whose parent was not kept
// by an inherited value; Select.h does that, since it depends on what the
// level above kept.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_SCORE_H
#define SATTN_COMPILER_REFERENCE_SCORE_H

#include "compiler/reference/Tensor.h"
#include "dialect/VariantParams.h"

#include <vector>

namespace sattn::ref {

/// softmax-sum scores [B, H, NQ, G_l] for each group size in `groupSizes`
/// (each a multiple of poolK; blockQ a multiple of poolQ), from the same
/// tile probabilities.
std::vector<Tensor> scoreSoftmaxSum(const Tensor &q, const Tensor &k,
                                    int64_t poolQ, int64_t poolK,
                                    int64_t blockQ,
                                    const std::vector<int64_t> &groupSizes,
                                    double scale);

/// logit scores [B, H, NQ, G] for groups of `groupSize` tokens.
Tensor scoreLogit(const Tensor &q, const Tensor &k, int64_t blockQ,
                  int64_t groupSize, double scale);

/// The real scores of every level of the variant (coarse to fine), for
/// reordered q and k.
std::vector<Tensor> scoreLevels(const VariantParams &variant, const Tensor &q,
                                const Tensor &k);

/// The score a group inherits from its parent when it was not a candidate,
/// keeping the parent's mass spread evenly over its r = parent size / child
/// size children: parent / r (softmax-sum), parent − log r (logit).
double inheritedScore(double parent, int64_t ratio, ScoreAggregate aggregate);

/// The row's scores as shares that sum to 1: score / row total for
/// softmax-sum, a softmax over the row for logit. Used for topp, threshold
/// and the estimated recall alike.
std::vector<double> normalizeRow(const double *scores, int64_t count,
                                 ScoreAggregate aggregate);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_SCORE_H
