//===- Sweep.h - Accuracy against dense over kept × bins --------*- C++ -*-===//
//
// What sattn-accuracy measures: for each kept fraction and each bin count,
// the output's MSE and relative L2 against dense attention, the exact recall
// of the kept real keys and the density (Metrics.h). Both sweeps share the
// work that does not depend on the bin count, so a grid of settings costs
// little more than its densest point:
//   sweepOracle  one exact-logit sort per query serves every setting
//                (prefix sums over the sorted keys give each bin's mean);
//   sweepBlocks  one mask and one sparse pass per density; each bin count
//                only adds its virtual keys (addVirtualKeys).
// Both agree with the plain definitions (oracleAttention, runVariant) to
// rounding; the unit tests check that.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_SWEEP_H
#define SATTN_COMPILER_REFERENCE_SWEEP_H

#include "compiler/reference/TailBins.h"
#include "compiler/reference/Tensor.h"
#include "dialect/VariantParams.h"

#include <functional>
#include <string>
#include <vector>

namespace sattn::ref {

struct SweepPoint {
  double kept = 0;
  int64_t bins = 0;
  TailMode mode = TailMode::Full;
  double density = 0, mse = 0, relL2 = 0, recall = 0;
  /// Per head (index b·H + h): density and exact recall.
  std::vector<double> headDensity, headRecall;
};

/// Reports progress: the fraction done and what is being done.
using SweepProgress = std::function<void(double fraction, const std::string &)>;

/// Oracle top-k at every (kept, bins) pair, in the order kept-major.
std::vector<SweepPoint> sweepOracle(const Tensor &q, const Tensor &k,
                                    const Tensor &v, double scale,
                                    const std::vector<double> &kept,
                                    const std::vector<int64_t> &bins,
                                    TailMode mode,
                                    const SweepProgress &progress = {});

/// The variant's block pipeline (one refresh) at every (kept, bins) pair:
/// kept replaces selection.density for every head (adaptive off); an empty
/// `kept` runs the variant's own density (adaptive when enabled) once; an
/// empty `bins` uses tail.bins. q, k, v in original order.
std::vector<SweepPoint> sweepBlocks(const VariantParams &variant,
                                    const Tensor &q, const Tensor &k,
                                    const Tensor &v,
                                    const std::vector<double> &kept,
                                    const std::vector<int64_t> &bins,
                                    TailMode mode,
                                    const SweepProgress &progress = {});

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_SWEEP_H
