//===- LinearAttention.h - SparseFlow's linear spatial path -----*- C++ -*-===//
//
// SPEC §4.7, on the original (frame-major) order: a video query attends
// linearly to the video keys of its own frame,
//
//   o_lin(q) = φ(q)ᵀ Σ_f φ(k) vᵀ / (φ(q)ᵀ Σ_f φ(k)),   φ = elu + 1 > 0,
//
// the sums over the keys of the query's frame f. The normalizer
// Z = φ(q)ᵀ Σ_f φ(k) is what the hybrid route weighs o_lin with against the
// sparse part's softmax mass exp(lse). Text queries have no linear path.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_LINEARATTENTION_H
#define SATTN_COMPILER_REFERENCE_LINEARATTENTION_H

#include "compiler/reference/Tensor.h"
#include "dialect/VariantParams.h"

namespace sattn::ref {

/// elu(x) + 1: positive, so that the linear weights are.
double phi(double x);

/// o_lin for every video query (original order); text query rows are 0.
/// logNormalizer (optional, [B, H, S]) gets log Z, -infinity for text.
Tensor linearAttention(const ProblemParams &problem, const Tensor &q,
                       const Tensor &k, const Tensor &v,
                       Tensor *logNormalizer = nullptr);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_LINEARATTENTION_H
