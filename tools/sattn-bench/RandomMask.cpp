//===- RandomMask.cpp - Random block masks for benchmarks and tests -------===//

#include "tools/sattn-bench/RandomMask.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace sattn {

RandomMask makeRandomMask(const MaskSpec &spec) {
  RandomMask m;
  int64_t s = spec.seqLen;
  m.numQueryBlocks = (s + spec.blockQ - 1) / spec.blockQ;
  m.numGroups = (s + spec.groupSize - 1) / spec.groupSize;
  m.capacity = m.numGroups;
  int64_t rows = spec.batch * spec.heads * m.numQueryBlocks;
  m.groups.assign(size_t(rows * m.capacity), -1);
  m.counts.assign(size_t(rows), 0);

  int64_t textBegin = spec.textFirst ? 0 : s - spec.textTokens;
  int64_t textEnd = textBegin + spec.textTokens;
  auto overlapsText = [&](int64_t begin, int64_t end) {
    return spec.textTokens > 0 && begin < textEnd && textBegin < end;
  };
  std::vector<char> textGroup(size_t(m.numGroups));
  for (int64_t g = 0; g < m.numGroups; ++g)
    textGroup[size_t(g)] =
        overlapsText(g * spec.groupSize, std::min(s, (g + 1) * spec.groupSize));
  auto perRowOf = [&](int64_t head) {
    if (spec.groupsPerRow > 0)
      return std::min(spec.groupsPerRow, m.numGroups);
    double scale = 1;
    if (spec.heads > 1)
      scale = 1 - spec.headSpread +
              2 * spec.headSpread * double(head) / double(spec.heads - 1);
    return std::max<int64_t>(
        1, std::min<int64_t>(m.numGroups, std::llround(spec.density * scale *
                                                       m.numGroups)));
  };

  std::mt19937_64 rng(spec.seed);
  std::vector<int32_t> order(size_t(m.numGroups));
  for (int64_t row = 0; row < rows; ++row) {
    int64_t i = row % m.numQueryBlocks;
    int64_t perRow = perRowOf((row / m.numQueryBlocks) % spec.heads);
    int64_t qBegin = i * spec.blockQ, qEnd = std::min(s, qBegin + spec.blockQ);
    std::vector<int32_t> kept;
    if (overlapsText(qBegin, qEnd)) {
      kept.resize(size_t(m.numGroups));
      std::iota(kept.begin(), kept.end(), 0);
    } else {
      for (int64_t g = 0; g < m.numGroups; ++g)
        if (textGroup[size_t(g)])
          kept.push_back(int32_t(g));
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng);
      for (int32_t g : order) {
        if (int64_t(kept.size()) >= perRow)
          break;
        if (!textGroup[size_t(g)])
          kept.push_back(g);
      }
      std::sort(kept.begin(), kept.end());
    }
    m.counts[size_t(row)] = int32_t(kept.size());
    std::copy(kept.begin(), kept.end(), m.groups.begin() + row * m.capacity);
    int64_t keys = 0;
    for (int32_t g : kept)
      keys += std::min(s, (g + 1) * spec.groupSize) - g * spec.groupSize;
    m.keptPairs += double(qEnd - qBegin) * double(keys);
  }
  m.density =
      m.keptPairs / (double(spec.batch * spec.heads) * double(s) * double(s));

  if (spec.bins > 0) {
    size_t slots = size_t(rows * spec.bins);
    m.tailKeys.resize(slots * size_t(spec.headDim));
    m.tailValues.resize(slots * size_t(spec.headDim));
    m.tailLogCounts.resize(slots);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    std::uniform_int_distribution<int> tokens(1, int(spec.groupSize) * 8);
    std::uniform_int_distribution<int> fifth(0, 4);
    for (float &x : m.tailKeys)
      x = normal(rng);
    for (float &x : m.tailValues)
      x = normal(rng);
    for (float &x : m.tailLogCounts)
      x = fifth(rng) == 0 ? -INFINITY : std::log(float(tokens(rng)));
  }
  return m;
}

} // namespace sattn
