//===- Select.h - Which key groups each query block keeps -------*- C++ -*-===//
//
// SPEC §4.3 levels and §4.4 selection, per (batch, head, query block) row.
//
// Levels run coarse to fine. Level 0 scores every group. A finer level
// scores only the children of the groups its parent level kept (the
// candidates); every other group inherits its parent's score spread over its
// r children (Score.h, inheritedScore), so each level's score tensor stays
// dense and a row's normalization sees the whole sequence. Only candidates
// can be kept, so a fine group is kept only if its parent was.
//
// Rules, on a row's ranking (forced groups first, ascending; then the other
// candidates by score, highest first, ties to the lower group index):
//   topk       keeps topkCount(density, G) groups at the final level and
//              coarseCount(density, G_l) at coarser ones (rounded up there,
//              so that enough candidates reach the final level). Forced
//              groups count in the budget; if they exceed it only they are
//              kept; if candidates run out, all candidates are kept.
//   topp       keeps groups in ranking order until their share of the row's
//              normalized score reaches p (all candidates if they cannot).
//   threshold  keeps the forced groups, the best candidate, and every
//              candidate whose normalized score exceeds `threshold`.
// Normalized score: score / row total (softmax-sum), softmax over the row
// (logit); the same shares give topp and the estimated recall of a row
// (the kept share). Every rule keeps a prefix of the ranking.
//
// Forced groups (selection.keep): `text` = every group holding a text key,
// and a query block holding any text query keeps ALL groups (a dense row);
// `diagonal` = the groups overlapping the query block's own tokens;
// `first_frame` = the groups holding any token of frame 0 (after
// reordering). A coarse group holds the tokens of all its children, so it is
// forced exactly when one of its children would be.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_SELECT_H
#define SATTN_COMPILER_REFERENCE_SELECT_H

#include "compiler/reference/BlockLists.h"
#include "compiler/reference/Tensor.h"
#include "dialect/VariantParams.h"

#include <cstdint>
#include <vector>

namespace sattn::ref {

/// Groups topk keeps at the final level: max(1, ⌊density · G⌋). The product
/// is rounded with a 1e-9 tolerance, so that 0.29 · 100 keeps 29 groups
/// although the double product is 28.999999999999996; GPU planning code must
/// use the same rule.
int64_t topkCount(double density, int64_t groups);
/// Groups topk keeps at a coarser level: min(G, max(1, ⌈density · G⌉)),
/// with the same tolerance.
int64_t coarseCount(double density, int64_t groups);

/// The forced groups of one level, from the token layout.
class ForcedGroups {
public:
  /// `frames`: the frame of each reordered position, -1 for text (framesOf).
  ForcedGroups(const VariantParams &variant, const std::vector<int32_t> &frames,
               int64_t groupSize);

  int64_t numGroups() const { return int64_t(groupText.size()); }
  /// A query block holding a text query, under keep = text: it keeps all.
  bool denseRow(int64_t block) const;
  bool forced(int64_t block, int64_t group) const;

private:
  int64_t seqLen, blockQ, groupSize;
  bool keepText = false, keepDiagonal = false, keepFirstFrame = false;
  std::vector<uint8_t> groupText, groupFirstFrame, blockText;
};

/// One row of one level, ready for a rule.
struct RowRanking {
  bool dense = false;
  int64_t numForced = 0;
  /// Forced groups ascending, then the other candidates by score.
  std::vector<int32_t> order;
  /// The normalized score of every group of the row.
  std::vector<double> shares;
};

/// Ranks one row. `scores` is the row of the level's dense score tensor;
/// `parentKept` the kept groups of the parent row (nullptr at level 0),
/// `ratio` the parent size / this size.
RowRanking rankRow(const double *scores, int64_t numGroups,
                   ScoreAggregate aggregate, const ForcedGroups &forced,
                   int64_t block, const std::vector<int32_t> *parentKept,
                   int64_t ratio);

/// How many groups of the ranking the rule keeps (a prefix of order; all
/// groups for a dense row).
int64_t keepCount(const RowRanking &ranking, const SelectionParams &selection,
                  double density, bool finalLevel);

/// The selection at one level: its dense (inherited-included) scores
/// [B, H, NQ, G] and the kept lists.
struct LevelSelection {
  int64_t groupSize = 0;
  Tensor scores;
  BlockLists lists;
};

struct BlockSelection {
  std::vector<LevelSelection> levels; // coarse to fine
  const BlockLists &lists() const { return levels.back().lists; }
  const Tensor &scores() const { return levels.back().scores; }
};

/// Runs every level. `realScores` from scoreLevels; `headDensity` the topk
/// density of each (b, h), index b·H + h.
BlockSelection selectBlocks(const VariantParams &variant,
                            const std::vector<int32_t> &frames,
                            const std::vector<Tensor> &realScores,
                            const std::vector<double> &headDensity);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_SELECT_H
