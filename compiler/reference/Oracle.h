//===- Oracle.h - Token-level exact top-k with per-query tails --*- C++ -*-===//
//
// SPEC §4 oracle mode, the setting of the UTA paper's Table 1: each query
// keeps its k = max(1, ⌊kept · S⌋) keys of highest exact logit (ties to the
// lower key index); the keys it drops, sorted by logit (highest first, ties
// to the lower index), are cut into `bins` consecutive runs of near-equal
// counts exactly like the block tail bins (TailBins.h), and each run joins
// the softmax as one virtual key: mean key k̄_b, mean value v̄_b, logit
// q · k̄_b · scale + log n_b. bins = 0 is plain top-k; bins = S − k (one key
// per bin) is dense attention exactly. TailMode::NormalizationOnly adds the
// tail mass Σ n_b · exp(q · k̄_b · scale) to the denominator only.
//
// This is the plain per-query definition; Sweep.h evaluates many (kept,
// bins) settings in one pass and is tested against it.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_ORACLE_H
#define SATTN_COMPILER_REFERENCE_ORACLE_H

#include "compiler/reference/TailBins.h"
#include "compiler/reference/Tensor.h"

#include <cstdint>
#include <vector>

namespace sattn::ref {

struct OracleConfig {
  double kept = 0.1;
  int64_t bins = 0;
  TailMode mode = TailMode::Full;
};

/// max(1, ⌊kept · S⌋), with topkCount's tolerance.
int64_t oracleKeptKeys(double kept, int64_t seqLen);

/// The keys of `logits` in oracle order: highest logit first, ties to the
/// lower index.
std::vector<int64_t> oracleRanking(const std::vector<double> &logits);

/// [B, H, S, D]. keptLse (optional, [B, H, S]) gets the log-sum-exp over
/// the kept real keys, so exp(keptLse − denseLse) is the exact recall.
Tensor oracleAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                       double scale, const OracleConfig &config,
                       Tensor *keptLse = nullptr);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_ORACLE_H
