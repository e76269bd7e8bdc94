//===- SattnAttrs.cpp - #sattn.variant <-> VariantParams
//-------------------===//

#include "dialect/SattnAttrs.h"
#include "dialect/SattnDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

#define GET_ATTRDEF_CLASSES
#include "dialect/SattnAttrs.cpp.inc"

namespace sattn {

void SattnDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/SattnAttrs.cpp.inc"
      >();
}

llvm::SmallVector<int64_t> defaultReorderTile() {
  auto values = ReorderParams{}.tile;
  return llvm::SmallVector<int64_t>(values.begin(), values.end());
}
llvm::SmallVector<KeepGroup> defaultKeep() {
  auto values = SelectionParams{}.keep;
  return llvm::SmallVector<KeepGroup>(values.begin(), values.end());
}
llvm::SmallVector<Route> defaultRouting() {
  auto values = LinearParams{}.routing;
  return llvm::SmallVector<Route>(values.begin(), values.end());
}

//===----------------------------------------------------------------------===//
// Sections <-> parameter structs
//===----------------------------------------------------------------------===//

ProblemParams ProblemAttr::getParams() const {
  ProblemParams p;
  p.batch = getBatch();
  p.heads = getHeads();
  p.headDim = getHeadDim();
  p.grid.assign(getGrid().begin(), getGrid().end());
  p.textTokens = getTextTokens();
  p.textPosition = getTextPosition();
  p.dtype = getDtype();
  if (getScale())
    p.scale = getScale()->value;
  return p;
}

ProblemAttr ProblemAttr::get(MLIRContext *ctx, const ProblemParams &p) {
  std::optional<F64> scale;
  if (p.scale)
    scale = F64{*p.scale};
  return get(ctx, p.batch, p.heads, p.headDim, p.grid, p.textTokens,
             p.textPosition, p.dtype, scale);
}

namespace {
/// Assembles the struct from the attribute parameters; a null section takes
/// the defaults. Shared by the verifier (before the attribute exists) and
/// VariantAttr::getParams.
VariantParams assemble(llvm::StringRef name, ProblemAttr problem,
                       ReorderAttr reorder, BlockAttr block,
                       ScoringAttr scoring, SelectionAttr selection,
                       ScheduleAttr schedule, AdaptiveAttr adaptive,
                       TailAttr tail, LinearAttr linear, TargetAttr target) {
  VariantParams v;
  v.name = name.str();
  if (problem)
    v.problem = problem.getParams();
  if (reorder) {
    v.reorder.kind = reorder.getKind();
    v.reorder.tile.assign(reorder.getTile().begin(), reorder.getTile().end());
  }
  if (block) {
    v.block.q = block.getQ();
    v.block.k = block.getK();
  }
  if (scoring) {
    v.scoring.poolQ = scoring.getPoolQ();
    v.scoring.poolK = scoring.getPoolK();
    v.scoring.aggregate = scoring.getAggregate();
    v.scoring.levels.assign(scoring.getLevels().begin(),
                            scoring.getLevels().end());
  }
  if (selection) {
    v.selection.rule = selection.getRule();
    v.selection.density = selection.getDensity().value;
    v.selection.p = selection.getP().value;
    v.selection.threshold = selection.getThreshold().value;
    v.selection.keep.assign(selection.getKeep().begin(),
                            selection.getKeep().end());
  }
  if (schedule) {
    v.schedule.denseWarmupSteps = schedule.getDenseWarmupSteps();
    v.schedule.refreshEvery = schedule.getRefreshEvery();
    v.schedule.densityDecay = schedule.getDensityDecay().value;
    v.schedule.minDensity = schedule.getMinDensity().value;
    for (const StepDensity &pair : schedule.getDensityByStep())
      v.schedule.densityByStep.emplace_back(pair.step, pair.density.value);
  }
  if (adaptive) {
    v.adaptive.enabled = adaptive.getEnabled();
    v.adaptive.targetRecall = adaptive.getTargetRecall().value;
    v.adaptive.minDensity = adaptive.getMinDensity().value;
    v.adaptive.maxDensity = adaptive.getMaxDensity().value;
  }
  if (tail)
    v.tail.bins = tail.getBins();
  if (linear) {
    v.linear.enabled = linear.getEnabled();
    v.linear.routing.assign(linear.getRouting().begin(),
                            linear.getRouting().end());
  }
  if (target)
    v.target.arch = target.getArch();
  return v;
}

/// Every section built from `v`, defaults included.
struct Sections {
  ReorderAttr reorder;
  BlockAttr block;
  ScoringAttr scoring;
  SelectionAttr selection;
  ScheduleAttr schedule;
  AdaptiveAttr adaptive;
  TailAttr tail;
  LinearAttr linear;
  TargetAttr target;

  Sections(MLIRContext *ctx, const VariantParams &v) {
    reorder = ReorderAttr::get(ctx, v.reorder.kind, v.reorder.tile);
    block = BlockAttr::get(ctx, v.block.q, v.block.k);
    scoring = ScoringAttr::get(ctx, v.scoring.poolQ, v.scoring.poolK,
                               v.scoring.aggregate, v.scoring.levels);
    selection = SelectionAttr::get(
        ctx, v.selection.rule, F64{v.selection.density}, F64{v.selection.p},
        F64{v.selection.threshold}, v.selection.keep);
    llvm::SmallVector<StepDensity> steps;
    for (auto [step, density] : v.schedule.densityByStep)
      steps.push_back({step, F64{density}});
    schedule = ScheduleAttr::get(
        ctx, v.schedule.denseWarmupSteps, v.schedule.refreshEvery,
        F64{v.schedule.densityDecay}, F64{v.schedule.minDensity}, steps);
    adaptive = AdaptiveAttr::get(
        ctx, v.adaptive.enabled, F64{v.adaptive.targetRecall},
        F64{v.adaptive.minDensity}, F64{v.adaptive.maxDensity});
    tail = TailAttr::get(ctx, v.tail.bins);
    linear = LinearAttr::get(ctx, v.linear.enabled, v.linear.routing);
    target = TargetAttr::get(ctx, v.target.arch);
  }
};
} // namespace

VariantParams VariantAttr::getParams() const {
  return assemble(getName(), getProblem(), getReorder(), getBlock(),
                  getScoring(), getSelection(), getSchedule(), getAdaptive(),
                  getTail(), getLinear(), getTarget());
}

VariantAttr VariantAttr::get(MLIRContext *ctx, const VariantParams &params) {
  // Sections equal to their defaults are left out, so that the printed
  // attribute shows what the variant changes.
  Sections given(ctx, params);
  VariantParams defaultsWithProblem;
  defaultsWithProblem.problem = params.problem;
  Sections defaults(ctx, defaultsWithProblem);
  auto unlessDefault = [](auto attr, auto defaultAttr) {
    return attr == defaultAttr ? decltype(attr)() : attr;
  };
  return get(ctx, params.name, ProblemAttr::get(ctx, params.problem),
             unlessDefault(given.reorder, defaults.reorder),
             unlessDefault(given.block, defaults.block),
             unlessDefault(given.scoring, defaults.scoring),
             unlessDefault(given.selection, defaults.selection),
             unlessDefault(given.schedule, defaults.schedule),
             unlessDefault(given.adaptive, defaults.adaptive),
             unlessDefault(given.tail, defaults.tail),
             unlessDefault(given.linear, defaults.linear),
             unlessDefault(given.target, defaults.target));
}

LogicalResult
VariantAttr::verify(llvm::function_ref<InFlightDiagnostic()> emitError,
                    llvm::StringRef name, ProblemAttr problem,
                    ReorderAttr reorder, BlockAttr block, ScoringAttr scoring,
                    SelectionAttr selection, ScheduleAttr schedule,
                    AdaptiveAttr adaptive, TailAttr tail, LinearAttr linear,
                    TargetAttr target) {
  if (!problem)
    return emitError() << "problem: is missing (allowed: "
                       << allowedFor("problem.grid") << ")";
  VariantParams params =
      assemble(name, problem, reorder, block, scoring, selection, schedule,
               adaptive, tail, linear, target);
  if (auto issue = validateVariant(params))
    return emitError() << issue->str();
  return success();
}

} // namespace sattn
