//===- AttentionCheck.h - A candidate kernel against float64 ----*- C++ -*-===//
//
// sattn-tune never chooses a wrong kernel: before a candidate is timed, it
// runs once on a small random problem (B = 1, 2 heads, an S that is not a
// multiple of the blocks) under a random mask with the variant's tail bins,
// and its output is compared with the float64 reference on the same inputs
// and mask.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_TOOLS_SATTNTUNE_ATTENTIONCHECK_H
#define SATTN_TOOLS_SATTNTUNE_ATTENTIONCHECK_H

#include "dialect/VariantParams.h"
#include "runtime/KernelModule.h"

namespace sattn {

struct CheckResult {
  double relL2 = 0;      // over every output element
  int64_t notFinite = 0; // outputs that are NaN or infinite
  bool passed(double tolerance = 1e-2) const {
    return notFinite == 0 && relL2 <= tolerance;
  }
};

/// Runs the module's attention kernel on a small problem of `seqLen` tokens
/// at `density` and compares it with the reference.
Status checkAttention(const KernelModule &module, const VariantParams &variant,
                      int64_t seqLen, double density, uint64_t seed,
                      CheckResult &out);

} // namespace sattn

#endif // SATTN_TOOLS_SATTNTUNE_ATTENTIONCHECK_H
