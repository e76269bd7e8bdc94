//===- BlockLists.h - The sparse mask as per-row index lists ----*- C++ -*-===//
//
// SPEC §4.4's output: for each (batch, head, query block) the key groups it
// attends to, as an ascending list of group indices (never an S × S or a
// dense NQ × G boolean matrix, which is what the GPU path avoids too).
// Query block i is tokens [i·blockQ, min((i+1)·blockQ, S)); key group g is
// tokens [g·groupSize, min((g+1)·groupSize, S)), both in reordered order.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_BLOCKLISTS_H
#define SATTN_COMPILER_REFERENCE_BLOCKLISTS_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sattn::ref {

struct BlockLists {
  int64_t batch = 0, heads = 0, numQueryBlocks = 0, numGroups = 0, blockQ = 0,
          groupSize = 0;
  /// The sequence length S (the last block and group may be partial).
  int64_t seqLen = 0;
  /// Kept key groups, ascending; index (b·heads + h)·numQueryBlocks + i.
  std::vector<std::vector<int32_t>> rows;
  /// Estimated recall per row: the kept share of the row's normalized score
  /// (1 for a dense row). Same index as `rows`.
  std::vector<double> recall;

  int64_t numRows() const { return batch * heads * numQueryBlocks; }
  int64_t rowIndex(int64_t b, int64_t h, int64_t i) const {
    return (b * heads + h) * numQueryBlocks + i;
  }
  const std::vector<int32_t> &row(int64_t b, int64_t h, int64_t i) const {
    return rows[size_t(rowIndex(b, h, i))];
  }
};

/// Lists that keep every group of every row (what a dense step attends to).
BlockLists denseLists(int64_t batch, int64_t heads, int64_t seqLen,
                      int64_t blockQ, int64_t groupSize);

/// Number of keys in the groups of `row`.
int64_t keptKeys(const BlockLists &lists, const std::vector<int32_t> &row);

/// Per head (index b·H + h): kept (query, key) pairs / S², a row counting
/// its query tokens × its kept keys.
std::vector<double> headDensities(const BlockLists &lists);
/// The same over all heads.
double listDensity(const BlockLists &lists);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_BLOCKLISTS_H
