//===- Adaptive.h - Per-head density from a recall target -------*- C++ -*-===//
//
// SPEC §4 `adaptive` (our extension of DFSAttn's mask caching): at a
// refresh, each (batch, head) gets the smallest density k/G (k = 1..G, G the
// final level's group count) whose topk selection reaches
// adaptive.target_recall of ESTIMATED recall (the kept share of the
// normalized scores) averaged over the head's rows, clamped to
// [adaptive.min_density, adaptive.max_density]. It replaces the schedule's
// density.
//
// With several levels the final level's candidates depend on what the
// coarser levels kept, which depends on the density. The curve is measured
// on a probe selection run at adaptive.max_density (the densest the head may
// get), so every density it can pick has its candidates in the probe.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_ADAPTIVE_H
#define SATTN_COMPILER_REFERENCE_ADAPTIVE_H

#include "compiler/reference/Select.h"

#include <vector>

namespace sattn::ref {

/// The mean estimated recall of head (b, h) when topk keeps k groups per
/// row, for k = 1..G (entry k − 1), measured on `probe`.
std::vector<double> recallCurve(const VariantParams &variant,
                                const std::vector<int32_t> &frames,
                                const BlockSelection &probe, int64_t b,
                                int64_t h);

/// The density of every (b, h), index b·H + h.
std::vector<double> adaptiveDensities(const VariantParams &variant,
                                      const std::vector<int32_t> &frames,
                                      const BlockSelection &probe);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_ADAPTIVE_H
