//===- ReferenceScheduleTest.cpp - Steps, mask caching, adaptive density --===//
//
// SPEC §4 across steps: which steps are dense, refresh or reuse, at which
// density; the runner reuses the index lists and bin membership between
// refreshes while the bins' means follow each step's k and v; the adaptive
// density is the smallest k/G that reaches the recall target, clamped.
//
//===----------------------------------------------------------------------===//

#include "ReferenceTestSupport.h"

#include "compiler/reference/Adaptive.h"
#include "compiler/reference/Attention.h"
#include "compiler/reference/Pipeline.h"
#include "compiler/reference/Reorder.h"
#include "compiler/reference/Schedule.h"
#include "compiler/reference/Score.h"
#include "compiler/reference/Synthetic.h"

#include <gtest/gtest.h>

using namespace sattn;
using namespace sattn::ref;
using namespace sattn::ref::testing;

namespace {

using Kind = StepPlan::Kind;

VariantParams scheduled(int64_t warmup, int64_t every, double density,
                        double decay, double minDensity) {
  VariantParams v;
  v.problem = problemFor({{2, 8, 8}, 0, TextPosition::Last}, 2, 4);
  v.block = {64, 16};
  v.selection.density = density;
  v.schedule.denseWarmupSteps = warmup;
  v.schedule.refreshEvery = every;
  v.schedule.densityDecay = decay;
  v.schedule.minDensity = minDensity;
  return v;
}

TEST(ReferenceSchedule, DecayRefreshesUntilMinDensity) {
  // DFSAttn's shape: 3 dense steps, a refresh every 2 steps, 0.3 dropping by
  // 0.1 to 0.1, then the last mask is kept for good.
  VariantParams v = scheduled(3, 2, 0.3, 0.1, 0.1);
  struct Expect {
    int64_t step;
    Kind kind;
    int64_t refresh;
    double density;
  };
  for (Expect e : std::vector<Expect>{{0, Kind::Dense, -1, 1.0},
                                      {2, Kind::Dense, -1, 1.0},
                                      {3, Kind::Refresh, 0, 0.3},
                                      {4, Kind::Reuse, 0, 0.3},
                                      {5, Kind::Refresh, 1, 0.2},
                                      {6, Kind::Reuse, 1, 0.2},
                                      {7, Kind::Refresh, 2, 0.1},
                                      {8, Kind::Reuse, 2, 0.1},
                                      {9, Kind::Reuse, 2, 0.1},
                                      {1000, Kind::Reuse, 2, 0.1}}) {
    StepPlan plan = planStep(v, e.step);
    EXPECT_EQ(plan.kind, e.kind) << "step " << e.step;
    EXPECT_EQ(plan.refresh, e.refresh) << "step " << e.step;
    EXPECT_NEAR(plan.density, e.density, 1e-12) << "step " << e.step;
    if (e.refresh >= 0) {
      EXPECT_EQ(plan.refreshStep, 3 + 2 * e.refresh);
    }
  }
}

TEST(ReferenceSchedule, NoDecayRefreshesForever) {
  VariantParams v = scheduled(0, 3, 0.25, 0.0, 0.0);
  for (int64_t step = 0; step < 30; ++step) {
    StepPlan plan = planStep(v, step);
    EXPECT_EQ(plan.kind, step % 3 ? Kind::Reuse : Kind::Refresh);
    EXPECT_EQ(plan.refresh, step / 3);
    EXPECT_EQ(plan.density, 0.25);
  }
}

TEST(ReferenceSchedule, DecayToZeroStops) {
  VariantParams v = scheduled(0, 1, 0.3, 0.1, 0.0);
  EXPECT_EQ(planStep(v, 3).kind, Kind::Refresh);
  EXPECT_NEAR(planStep(v, 3).density, 0.0, 1e-12);
  EXPECT_EQ(planStep(v, 4).kind, Kind::Reuse);
  EXPECT_EQ(planStep(v, 4).refresh, 3);
}

TEST(ReferenceSchedule, DensityByStepInterpolates) {
  VariantParams v = scheduled(2, 2, 0.5, 0.0, 0.0);
  v.schedule.densityByStep = {{4, 0.1}, {8, 0.3}};
  EXPECT_EQ(planStep(v, 1).kind, Kind::Dense);
  EXPECT_NEAR(planStep(v, 2).density, 0.1, 1e-15); // before the first point
  EXPECT_NEAR(planStep(v, 4).density, 0.1, 1e-15);
  EXPECT_NEAR(planStep(v, 6).density, 0.2, 1e-15);
  EXPECT_NEAR(planStep(v, 7).density, 0.2, 1e-15); // reuses step 6's mask
  EXPECT_EQ(planStep(v, 7).kind, Kind::Reuse);
  EXPECT_NEAR(planStep(v, 8).density, 0.3, 1e-15);
  EXPECT_NEAR(planStep(v, 100).density, 0.3, 1e-15); // after the last point
  EXPECT_EQ(planStep(v, 100).kind, Kind::Refresh);
  EXPECT_NEAR(interpolateDensity({{0, 0.5}, {10, 0.0}}, 3), 0.35, 1e-15);
}

SyntheticInputs stepInputs(int64_t step, int64_t heads = 2) {
  SyntheticSpec spec;
  spec.grid = {2, 8, 8};
  spec.heads = heads;
  spec.headDim = 4;
  spec.textTokens = 5;
  spec.step = step;
  spec.drift = 0.3;
  return makeSynthetic(spec);
}

TEST(ReferenceSchedule, RunnerReusesTheMaskAndRecomputesTheBins) {
  VariantParams v = scheduled(1, 3, 0.3, 0.0, 0.0);
  v.problem.textTokens = 5;
  v.tail.bins = 3;
  VariantRunner runner(v);
  std::shared_ptr<const Mask> previous;
  for (int64_t step = 0; step < 8; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    SyntheticInputs in = stepInputs(step);
    VariantOutput out = runner.step(in.q, in.k, in.v, step);
    if (step == 0) {
      EXPECT_TRUE(out.dense);
      EXPECT_LT(maxAbsDiff(out.output, denseAttention(in.q, in.k, in.v,
                                                      v.problem.softmaxScale())),
                1e-12);
      continue;
    }
    bool refresh = (step - 1) % 3 == 0;
    EXPECT_EQ(out.refreshed, refresh);
    std::vector<int64_t> order = tokenOrder(v.problem, v.reorder);
    Tensor qR = reorder(in.q, order), kR = reorder(in.k, order),
           vR = reorder(in.v, order);
    if (refresh) {
      Mask fresh = computeMask(v, qR, kR, 0.3);
      EXPECT_EQ(out.mask->lists().rows, fresh.lists().rows);
      EXPECT_EQ(out.mask->tail.groups, fresh.tail.groups);
      EXPECT_EQ(out.mask->step, step);
    } else {
      EXPECT_EQ(out.mask.get(), previous.get()) << "the mask was recomputed";
    }
    // The bins follow this step's k and v, with the cached membership.
    TailBins tails = computeTailBins(kR, vR, out.mask->lists(), out.mask->tail);
    EXPECT_EQ(out.tails.keys.data, tails.keys.data);
    EXPECT_EQ(out.tails.values.data, tails.values.data);
    Tensor expected = unreorder(sparseAttention(qR, kR, vR, out.mask->lists(),
                                                &tails, v.problem.softmaxScale()),
                                order);
    EXPECT_LT(maxAbsDiff(out.output, expected), 1e-12);
    previous = out.mask;
  }
}

TEST(ReferenceAdaptive, PicksTheSmallestDensityReachingTheTarget) {
  for (double target : {0.5, 0.8, 0.95, 1.0})
    for (auto levels : std::vector<std::vector<int64_t>>{{16}, {64, 16}}) {
      SCOPED_TRACE("target " + std::to_string(target) + " levels " +
                   std::to_string(levels.size()));
      VariantParams v;
      v.problem = problemFor({{3, 12, 10}, 7, TextPosition::First}, 4, 8);
      v.reorder.kind = ReorderKind::Hilbert2D;
      v.block = {64, 16};
      v.scoring.levels = levels;
      v.adaptive = {true, target, 0.02, 0.6};
      SyntheticSpec spec;
      spec.grid = v.problem.grid;
      spec.heads = 4;
      spec.headDim = 8;
      spec.textTokens = 7;
      spec.textPosition = TextPosition::First;
      SyntheticInputs in = makeSynthetic(spec);
      std::vector<int64_t> order = tokenOrder(v.problem, v.reorder);
      Tensor qR = reorder(in.q, order), kR = reorder(in.k, order);
      Mask mask = computeMask(v, qR, kR, 0.3);
      std::vector<int32_t> frames = framesOf(v.problem, order);
      std::vector<Tensor> scores = scoreLevels(v, qR, kR);
      BlockSelection probe = selectBlocks(v, frames, scores, {0.6, 0.6, 0.6, 0.6});
      int64_t g = probe.lists().numGroups;
      for (int64_t h = 0; h < 4; ++h) {
        std::vector<double> curve = recallCurve(v, frames, probe, 0, h);
        ASSERT_EQ(int64_t(curve.size()), g);
        for (size_t k = 1; k < curve.size(); ++k)
          EXPECT_GE(curve[k], curve[k - 1] - 1e-12) << "recall(k) decreases";
        double density = mask.headDensity[size_t(h)];
        EXPECT_GE(density, 0.02);
        EXPECT_LE(density, 0.6);
        int64_t k = int64_t(std::llround(density * double(g)));
        bool clampedLow = density == 0.02, clampedHigh = density == 0.6;
        if (!clampedHigh && !clampedLow) {
          EXPECT_NEAR(density, double(k) / double(g), 1e-12);
          EXPECT_GE(curve[size_t(k - 1)], target - 1e-12);
          if (k > 1) {
            EXPECT_LT(curve[size_t(k - 2)], target);
          }
        }
        if (clampedHigh) {
          int64_t maxK = int64_t(std::floor(0.6 * double(g) + 1e-9));
          EXPECT_LT(curve[size_t(maxK - 1)], target);
        }
        if (!clampedHigh && levels.size() == 1) {
          // One level: the selection reaches what the curve promised.
          double mean = 0;
          for (int64_t i = 0; i < mask.lists().numQueryBlocks; ++i)
            mean += mask.lists().recall[size_t(mask.lists().rowIndex(0, h, i))];
          mean /= double(mask.lists().numQueryBlocks);
          EXPECT_GE(mean, std::min(target, curve[size_t(std::max<int64_t>(k, 1) - 1)]) - 1e-12);
        }
      }
    }
}

} // namespace
