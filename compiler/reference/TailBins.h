//===- TailBins.h - UTA's aggregated tail bins per query block --*- C++ -*-===//
//
// SPEC §4.5. The groups a row did not keep are not discarded but summarized
// (UTA, eq. 10-14): sorted by their final-level score (dense, inherited
// scores included; highest first, ties to the lower index) and cut into
// `bins` consecutive runs whose group counts differ by at most one, the
// earlier runs taking the extra groups (U < bins unselected groups: U bins of
// one group). Bin b stands for its token set D_b by one virtual key: the
// mean key k̄_b, the mean value v̄_b and the logit q · k̄_b · scale + log n_b,
// n_b = |D_b| (a partial last group counted exactly). Since q · mean(k) =
// mean(q · k), that is UTA's aggregated tail logit exactly.
//
// Membership (which groups form which bin) is part of the cached mask; the
// bins' keys and values are recomputed from the current k and v at every
// step (SPEC §4 schedule).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_TAILBINS_H
#define SATTN_COMPILER_REFERENCE_TAILBINS_H

#include "compiler/reference/BlockLists.h"
#include "compiler/reference/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sattn::ref {

/// The tail bins of every row: bins slots per row; an empty slot has
/// logCount = -infinity and zero key and value, and contributes nothing.
struct TailBins {
  int64_t bins = 0;
  Tensor keys, values; // [B, H, NQ, bins, D]: mean key / value of the bin
  Tensor logCounts;    // [B, H, NQ, bins]: log n_b

  const double *key(int64_t row, int64_t bin) const {
    return &keys.data[size_t((row * bins + bin) * keys.shape[4])];
  }
  const double *value(int64_t row, int64_t bin) const {
    return &values.data[size_t((row * bins + bin) * values.shape[4])];
  }
  double logCount(int64_t row, int64_t bin) const {
    return logCounts.data[size_t(row * bins + bin)];
  }
};

/// Which key groups form each bin of each row (the cached part).
struct TailMembership {
  int64_t bins = 0;
  /// The groups of bin b of row r at index r·bins + b, in score order;
  /// empty for an unused slot.
  std::vector<std::vector<int32_t>> groups;

  const std::vector<int32_t> &bin(int64_t row, int64_t b) const {
    return groups[size_t(row * bins + b)];
  }
};

/// Cuts the unselected groups of each row into bins. `scores` is the final
/// level's dense score tensor [B, H, NQ, G] (BlockSelection::scores()).
TailMembership assignTailBins(const BlockLists &lists, const Tensor &scores,
                              int64_t bins);

/// The bins' mean keys and values and log counts from (reordered) k and v.
TailBins computeTailBins(const Tensor &k, const Tensor &v,
                         const BlockLists &lists,
                         const TailMembership &membership);

/// How the virtual keys enter the softmax: `Full` (UTA: denominator and
/// value term), `NormalizationOnly` (the ablation of UTA's Fig. 7: the tail
/// mass Σ n_b · exp(q · k̄_b · scale) joins the denominator only).
enum class TailMode { Full, NormalizationOnly };

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_TAILBINS_H
