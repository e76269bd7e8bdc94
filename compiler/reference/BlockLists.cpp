//===- BlockLists.cpp - The sparse mask as per-row index lists ------------===//

#include "compiler/reference/BlockLists.h"
#include "compiler/reference/Pool.h"

#include <numeric>

namespace sattn::ref {

BlockLists denseLists(int64_t batch, int64_t heads, int64_t seqLen,
                      int64_t blockQ, int64_t groupSize) {
  BlockLists lists;
  lists.batch = batch;
  lists.heads = heads;
  lists.seqLen = seqLen;
  lists.blockQ = blockQ;
  lists.groupSize = groupSize;
  lists.numQueryBlocks = numTiles(seqLen, blockQ);
  lists.numGroups = numTiles(seqLen, groupSize);
  std::vector<int32_t> all(size_t(lists.numGroups));
  std::iota(all.begin(), all.end(), 0);
  lists.rows.assign(size_t(lists.numRows()), all);
  lists.recall.assign(size_t(lists.numRows()), 1.0);
  return lists;
}

int64_t keptKeys(const BlockLists &lists, const std::vector<int32_t> &row) {
  int64_t keys = 0;
  for (int32_t g : row)
    keys += tileCount(lists.seqLen, lists.groupSize, g);
  return keys;
}

std::vector<double> headDensities(const BlockLists &lists) {
  std::vector<double> density(size_t(lists.batch * lists.heads), 0.0);
  double s = double(lists.seqLen);
  for (int64_t b = 0; b < lists.batch; ++b)
    for (int64_t h = 0; h < lists.heads; ++h) {
      double kept = 0;
      for (int64_t i = 0; i < lists.numQueryBlocks; ++i)
        kept += double(tileCount(lists.seqLen, lists.blockQ, i)) *
                double(keptKeys(lists, lists.row(b, h, i)));
      density[size_t(b * lists.heads + h)] = kept / (s * s);
    }
  return density;
}

double listDensity(const BlockLists &lists) {
  std::vector<double> perHead = headDensities(lists);
  double sum = 0;
  for (double d : perHead)
    sum += d;
  return sum / double(perHead.size());
}

} // namespace sattn::ref
