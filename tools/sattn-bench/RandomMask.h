//===- RandomMask.h - Random block masks ------------------------*- C++ -*-===//
//
// Index lists of a chosen density in the layout the kernels take (SPEC §4.4:
// per (batch, head, query block) the kept key groups, ascending, and their
// count), drawn uniformly at random, with the forced groups of text tokens.
// Not a selection rule: a controlled workload for timing and for checking the
// kernels against the reference on the same mask.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_TOOLS_SATTNBENCH_RANDOMMASK_H
#define SATTN_TOOLS_SATTNBENCH_RANDOMMASK_H

#include <cstdint>
#include <vector>

namespace sattn {

struct MaskSpec {
  int64_t batch = 1, heads = 1, seqLen = 0, blockQ = 128, groupSize = 128;
  /// Kept share of key groups per row: max(1, round(density * G)) groups.
  double density = 0.1;
  /// When > 0, exactly this many groups per row instead.
  int64_t groupsPerRow = 0;
  /// Per-head densities, as adaptive selection gives (SPEC §4.5): head h of
  /// H keeps density * (1 - spread + 2 * spread * h / (H - 1)), so the
  /// heads' mean stays `density` and the last head keeps the most. 0: every
  /// head the same. In [0, 1).
  double headSpread = 0;
  /// Text tokens first or last: their groups are always kept, and a query
  /// block holding a text query keeps every group.
  int64_t textTokens = 0;
  bool textFirst = false;
  /// Tail bins per row (0: none), with random virtual keys and values of
  /// this head_dim and log counts; about one in five bins is empty (-inf).
  int64_t bins = 0, headDim = 128;
  uint64_t seed = 1;
};

struct RandomMask {
  int64_t numQueryBlocks = 0, numGroups = 0, capacity = 0;
  std::vector<int32_t> groups; // [B, H, NQ, capacity], -1 past the count
  std::vector<int32_t> counts; // [B, H, NQ]
  std::vector<float> tailKeys, tailValues; // [B, H, NQ, bins, D]
  std::vector<float> tailLogCounts;        // [B, H, NQ, bins]
  /// Sum over rows of (queries in the block) x (keys in its kept groups):
  /// the attention FLOPs are 4 * head_dim * keptPairs.
  double keptPairs = 0;
  /// keptPairs over B * H * S^2.
  double density = 0;
};

RandomMask makeRandomMask(const MaskSpec &spec);

} // namespace sattn

#endif // SATTN_TOOLS_SATTNBENCH_RANDOMMASK_H
