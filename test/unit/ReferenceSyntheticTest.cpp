//===- ReferenceSyntheticTest.cpp - The video-like input generator --------===//
//
// The generator's promises (Synthetic.h): the same spec gives the same
// tensors; each head's exact top-10% keys carry roughly 85–95% of the
// attention mass over all queries, not just the calibration sample; the
// heads are structured (a local head's mass stays near the query); later
// steps drift away gradually.
//
//===----------------------------------------------------------------------===//

#include "ReferenceTestSupport.h"

#include "compiler/reference/Synthetic.h"

#include <gtest/gtest.h>

using namespace sattn;
using namespace sattn::ref;
using namespace sattn::ref::testing;

namespace {

SyntheticSpec smallSpec(const std::string &name) {
  SyntheticSpec spec;
  spec.name = name;
  spec.grid = {4, 12, 16};
  spec.heads = 4;
  spec.headDim = 32;
  spec.textTokens = 9;
  spec.textPosition = TextPosition::First;
  return spec;
}

TEST(ReferenceSynthetic, SameSpecSameTensors) {
  SyntheticInputs a = makeSynthetic(smallSpec("video"));
  SyntheticInputs b = makeSynthetic(smallSpec("video"));
  EXPECT_EQ(a.q.data, b.q.data);
  EXPECT_EQ(a.k.data, b.k.data);
  EXPECT_EQ(a.v.data, b.v.data);
  SyntheticSpec other = smallSpec("video");
  other.seed = 1;
  EXPECT_NE(makeSynthetic(other).k.data, a.k.data);
  EXPECT_EQ(a.q.shape, (std::vector<int64_t>{1, 4, 4 * 12 * 16 + 9, 32}));
}

TEST(ReferenceSynthetic, TopTenthCarriesMostOfTheMassOnEveryKind) {
  for (const std::string &name : syntheticNames()) {
    SCOPED_TRACE(name);
    SyntheticInputs in = makeSynthetic(smallSpec(name));
    int64_t s = in.q.dim(2);
    for (int64_t h = 0; h < 4; ++h) {
      double all = topShare(in.q, in.k, 0, h, 1 / std::sqrt(32.0), 0.1, s);
      EXPECT_GE(all, 0.84) << toString(in.kinds[size_t(h)]);
      EXPECT_LE(all, 0.96) << toString(in.kinds[size_t(h)]);
      EXPECT_GT(in.temperature[size_t(h)], 0);
    }
  }
  EXPECT_FALSE(syntheticKinds("nope", 2));
  EXPECT_EQ(syntheticKinds("video", 5)->at(4), SyntheticHead::Local);
}

TEST(ReferenceSynthetic, LocalHeadsAttendNearby) {
  SyntheticSpec spec = smallSpec("local");
  spec.textTokens = 0;
  SyntheticInputs in = makeSynthetic(spec);
  // The mean distance (in tokens, within the frame) of the attention mass of
  // mid-frame queries is small compared with the frame.
  int64_t w = 16, h = 12, d = 32;
  double meanDistance = 0, queries = 0;
  for (int64_t t = 2 * h * w + 5 * w + 4; t < 2 * h * w + 7 * w; t += 3) {
    std::vector<double> z(size_t(in.k.dim(2)));
    double m = -INFINITY, sum = 0, dist = 0;
    for (int64_t j = 0; j < in.k.dim(2); ++j) {
      z[size_t(j)] = 0;
      for (int64_t e = 0; e < d; ++e)
        z[size_t(j)] += in.q(0, 0, t, e) * in.k(0, 0, j, e) / std::sqrt(double(d));
      m = std::max(m, z[size_t(j)]);
    }
    for (int64_t j = 0; j < in.k.dim(2); ++j) {
      double p = std::exp(z[size_t(j)] - m);
      sum += p;
      dist += p * std::hypot(double(j / w % h - t / w % h), double(j % w - t % w));
    }
    meanDistance += dist / sum;
    queries += 1;
  }
  EXPECT_LT(meanDistance / queries, 3.5);
}

TEST(ReferenceSynthetic, StepsDriftGradually) {
  SyntheticSpec spec = smallSpec("video");
  spec.drift = 0.1;
  SyntheticInputs base = makeSynthetic(spec);
  auto distance = [&](int64_t step) {
    SyntheticSpec later = spec;
    later.step = step;
    SyntheticInputs in = makeSynthetic(later);
    double diff = 0, norm = 0;
    for (int64_t i = 0; i < in.k.size(); ++i) {
      diff += std::pow(in.k.data[size_t(i)] - base.k.data[size_t(i)], 2);
      norm += std::pow(base.k.data[size_t(i)], 2);
    }
    return std::sqrt(diff / norm);
  };
  double one = distance(1), five = distance(5);
  EXPECT_GT(one, 0);
  EXPECT_LT(one, five);
  EXPECT_LT(five, 1.0);
}

} // namespace
