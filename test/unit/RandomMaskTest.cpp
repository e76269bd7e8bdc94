//===- RandomMaskTest.cpp - The benchmarks' random block masks ------------===//

#include "tools/sattn-bench/RandomMask.h"

#include <gtest/gtest.h>

using namespace sattn;

namespace {

MaskSpec wanLike() {
  MaskSpec spec;
  spec.batch = 2;
  spec.heads = 5;
  spec.seqLen = 128 * 100;
  spec.density = 0.2;
  return spec;
}

int32_t countOf(const RandomMask &m, const MaskSpec &spec, int64_t batch,
                int64_t head, int64_t block) {
  return m.counts[size_t((batch * spec.heads + head) * m.numQueryBlocks +
                         block)];
}

TEST(RandomMask, EveryRowKeepsTheDensitysShareInAscendingOrder) {
  MaskSpec spec = wanLike();
  RandomMask m = makeRandomMask(spec);
  ASSERT_EQ(m.numGroups, 100);
  for (size_t row = 0; row < m.counts.size(); ++row) {
    ASSERT_EQ(m.counts[row], 20) << row;
    const int32_t *list = m.groups.data() + row * size_t(m.capacity);
    for (int32_t i = 1; i < m.counts[row]; ++i)
      ASSERT_LT(list[i - 1], list[i]) << row;
    EXPECT_EQ(list[m.counts[row]], -1);
  }
  EXPECT_NEAR(m.density, 0.2, 1e-12);
}

TEST(RandomMask, HeadSpreadKeepsTheMeanAndGrowsWithTheHead) {
  MaskSpec spec = wanLike();
  spec.headSpread = 0.9;
  RandomMask m = makeRandomMask(spec);
  // 0.2 * (0.1, 0.55, 1, 1.45, 1.9) of 100 groups.
  const int32_t expected[] = {2, 11, 20, 29, 38};
  for (int64_t batch = 0; batch < spec.batch; ++batch)
    for (int64_t head = 0; head < spec.heads; ++head)
      for (int64_t block : {int64_t(0), m.numQueryBlocks - 1})
        EXPECT_EQ(countOf(m, spec, batch, head, block), expected[head])
            << "batch " << batch << " head " << head << " block " << block;
  EXPECT_NEAR(m.density, 0.2, 1e-12);
}

} // namespace
