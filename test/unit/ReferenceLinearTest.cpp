//===- ReferenceLinearTest.cpp - Linear path, hybrid merge, routing -------===//
//
// SPEC §4.7: o_lin is φ(q)ᵀ Σ_f φ(k) vᵀ / φ(q)ᵀ Σ_f φ(k) over the query's
// own frame; merging partial softmax results over disjoint key sets is the
// softmax over their union; the hybrid route merges sparse attention to the
// other frames with the linear path of the own frame; text queries use the
// sparse output; calibration picks each head's lowest-error route.
//
//===----------------------------------------------------------------------===//

#include "ReferenceTestSupport.h"

#include "compiler/reference/Attention.h"
#include "compiler/reference/LinearAttention.h"
#include "compiler/reference/Metrics.h"
#include "compiler/reference/Pipeline.h"
#include "compiler/reference/Reorder.h"
#include "compiler/reference/Routing.h"

#include <gtest/gtest.h>

using namespace sattn;
using namespace sattn::ref;
using namespace sattn::ref::testing;

namespace {

bool isVideo(const ProblemParams &p, int64_t t) {
  return t >= p.videoBegin() && t < p.videoBegin() + p.videoTokens();
}

TEST(ReferenceLinear, LinearAttentionIsItsDefinition) {
  for (const Shape &shape : smallShapes()) {
    SCOPED_TRACE(shape.str());
    ProblemParams p = problemFor(shape, 2, 5);
    int64_t s = p.seqLen(), frame = shape.grid[1] * shape.grid[2];
    Tensor q = randomTensor({1, 2, s, 5}, 1, 2), k = randomTensor({1, 2, s, 5}, 2, 2),
           v = randomTensor({1, 2, s, 5}, 3);
    Tensor logZ;
    Tensor out = linearAttention(p, q, k, v, &logZ);
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t t = 0; t < s; ++t) {
        if (!isVideo(p, t)) {
          EXPECT_EQ(logZ(0, h, t), -INFINITY);
          for (int64_t e = 0; e < 5; ++e)
            EXPECT_EQ(out(0, h, t, e), 0.0);
          continue;
        }
        int64_t f = (t - p.videoBegin()) / frame;
        std::vector<double> num(5, 0.0);
        double den = 0;
        for (int64_t j = p.videoBegin() + f * frame;
             j < p.videoBegin() + (f + 1) * frame; ++j) {
          double w = 0;
          for (int64_t e = 0; e < 5; ++e)
            w += phi(q(0, h, t, e)) * phi(k(0, h, j, e));
          den += w;
          for (int64_t e = 0; e < 5; ++e)
            num[size_t(e)] += w * v(0, h, j, e);
        }
        EXPECT_NEAR(logZ(0, h, t), std::log(den), 1e-12);
        for (int64_t e = 0; e < 5; ++e)
          EXPECT_NEAR(out(0, h, t, e), num[size_t(e)] / den, 1e-12);
      }
  }
  EXPECT_EQ(phi(0.5), 1.5);
  EXPECT_NEAR(phi(-1.0), std::exp(-1.0), 1e-16);
}

TEST(ReferenceLinear, MergingDisjointPartsIsTheSoftmaxOfTheUnion) {
  Tensor q = randomTensor({1, 1, 3, 4}, 1, 3), k = randomTensor({1, 1, 40, 4}, 2, 3),
         v = randomTensor({1, 1, 40, 4}, 3);
  for (int64_t t = 0; t < 3; ++t) {
    double lseEven, lseOdd, lseAll, lseMerged;
    auto even = naiveAttention(q, k, v, 0, 0, t, 0.9,
                               [](int64_t j) { return j % 2 == 0; }, {}, &lseEven);
    auto odd = naiveAttention(q, k, v, 0, 0, t, 0.9,
                              [](int64_t j) { return j % 2 == 1; }, {}, &lseOdd);
    auto all = naiveAttention(q, k, v, 0, 0, t, 0.9, [](int64_t) { return true; },
                              {}, &lseAll);
    std::vector<double> merged(4);
    mergeSoftmax(even.data(), lseEven, odd.data(), lseOdd, 4, merged.data(),
                 &lseMerged);
    EXPECT_NEAR(lseMerged, lseAll, 1e-12);
    for (int64_t e = 0; e < 4; ++e)
      EXPECT_NEAR(merged[size_t(e)], all[size_t(e)], 1e-12);
    // An empty side contributes nothing.
    mergeSoftmax(even.data(), lseEven, odd.data(), -INFINITY, 4, merged.data(),
                 &lseMerged);
    EXPECT_EQ(lseMerged, lseEven);
    EXPECT_EQ(merged, even);
  }
}

VariantParams linearVariant(const Shape &shape, int64_t heads) {
  VariantParams v;
  v.problem = problemFor(shape, heads, 4);
  v.reorder = {ReorderKind::Hilbert2D, {1, 1, 1}};
  v.block = {64, 16};
  v.selection.density = 0.3;
  v.tail.bins = 2;
  v.linear.enabled = true;
  return v;
}

TEST(ReferenceLinear, RoutesAreTheirDefinitions) {
  for (const Shape &shape : smallShapes()) {
    SCOPED_TRACE(shape.str());
    VariantParams v = linearVariant(shape, 2);
    ProblemParams &p = v.problem;
    int64_t s = p.seqLen();
    double scale = p.softmaxScale();
    Tensor q = randomTensor({1, 2, s, 4}, 1, 2), k = randomTensor({1, 2, s, 4}, 2, 2),
           val = randomTensor({1, 2, s, 4}, 3);
    std::vector<int64_t> order = tokenOrder(p, v.reorder);
    Tensor qR = reorder(q, order), kR = reorder(k, order), vR = reorder(val, order);
    Mask mask = computeMask(v, qR, kR, 0.3);
    TailBins tail = computeTailBins(kR, vR, mask.lists(), mask.tail);
    RouteOutputs routes = computeRoutes(p, order, q, k, val, qR, kR, vR,
                                        mask.lists(), &tail, scale);
    Tensor sparse = unreorder(sparseAttention(qR, kR, vR, mask.lists(), &tail, scale), order);
    Tensor logZ;
    Tensor linear = linearAttention(p, q, k, val, &logZ);
    EXPECT_EQ(routes.sparse.data, sparse.data);
    std::vector<int64_t> position(order.size());
    for (size_t i = 0; i < order.size(); ++i)
      position[size_t(order[i])] = int64_t(i);
    int64_t frame = shape.grid[1] * shape.grid[2];
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t t = 0; t < s; ++t) {
        if (!isVideo(p, t)) {
          for (int64_t e = 0; e < 4; ++e) {
            EXPECT_EQ(routes.linear(0, h, t, e), sparse(0, h, t, e));
            EXPECT_EQ(routes.hybrid(0, h, t, e), sparse(0, h, t, e));
          }
          continue;
        }
        // The hybrid's sparse part, naively: kept keys outside t's frame.
        int64_t f = (t - p.videoBegin()) / frame;
        const auto &kept = mask.lists().row(0, h, position[size_t(t)] / v.block.q);
        auto keep = [&](int64_t j) {
          bool ownFrame = isVideo(p, j) && (j - p.videoBegin()) / frame == f;
          return !ownFrame && std::binary_search(kept.begin(), kept.end(),
                                                 int32_t(position[size_t(j)] / v.block.k));
        };
        bool any = false;
        for (int64_t j = 0; j < s; ++j)
          any |= keep(j);
        double lseOther = -INFINITY;
        std::vector<double> other(4, 0.0);
        if (any)
          other = naiveAttention(q, k, val, 0, h, t, scale, keep, {}, &lseOther);
        double z = std::exp(logZ(0, h, t));
        double wOther = std::isinf(lseOther) ? 0 : std::exp(lseOther);
        for (int64_t e = 0; e < 4; ++e) {
          EXPECT_EQ(routes.linear(0, h, t, e), linear(0, h, t, e));
          double expected = (wOther * other[size_t(e)] + z * linear(0, h, t, e)) /
                            (wOther + z);
          EXPECT_NEAR(routes.hybrid(0, h, t, e), expected, 1e-12);
        }
      }
  }
}

TEST(ReferenceLinear, PerHeadRoutingAndCalibration) {
  Shape shape{{3, 12, 10}, 7, TextPosition::Last};
  VariantParams v = linearVariant(shape, 3);
  v.linear.routing = {Route::Sparse, Route::Linear, Route::Hybrid};
  int64_t s = v.problem.seqLen();
  Tensor q = randomTensor({1, 3, s, 4}, 4, 2), k = randomTensor({1, 3, s, 4}, 5, 2),
         val = randomTensor({1, 3, s, 4}, 6);
  VariantOutput fixed = runVariant(v, q, k, val);
  ASSERT_EQ(fixed.routes, v.linear.routing);
  std::vector<int64_t> order = fixed.mask->order;
  RouteOutputs routes = computeRoutes(
      v.problem, order, q, k, val, reorder(q, order), reorder(k, order),
      reorder(val, order), fixed.mask->lists(), &fixed.tails, v.problem.softmaxScale());
  for (int64_t h = 0; h < 3; ++h)
    for (int64_t t = 0; t < s; ++t)
      for (int64_t e = 0; e < 4; ++e)
        ASSERT_EQ(fixed.output(0, h, t, e),
                  routes.of(v.linear.routing[size_t(h)])(0, h, t, e));

  v.linear.routing = {Route::Calibrate};
  VariantOutput calibrated = runVariant(v, q, k, val);
  Tensor dense = denseAttention(q, k, val, v.problem.softmaxScale());
  ASSERT_EQ(calibrated.routes.size(), 3u);
  for (int64_t h = 0; h < 3; ++h) {
    auto headError = [&](const Tensor &o) {
      double error = 0;
      for (int64_t t = 0; t < s; ++t)
        for (int64_t e = 0; e < 4; ++e)
          error += std::pow(o(0, h, t, e) - dense(0, h, t, e), 2);
      return error;
    };
    double chosen = headError(routes.of(calibrated.routes[size_t(h)]));
    for (Route r : {Route::Sparse, Route::Linear, Route::Hybrid})
      EXPECT_LE(chosen, headError(routes.of(r)));
  }
  // The runner calibrates once and keeps the routes.
  VariantRunner runner(v);
  runner.calibrate(q, k, val);
  EXPECT_EQ(runner.step(q, k, val, 0).routes, calibrated.routes);
}

} // namespace
