//===- ExpandAttention.cpp - sattn.attention -> stage ops
//------------------===//
//
// The stage order of SPEC §4: reorder q/k/v, pool, score and select level by
// level (coarse to fine), tail bins, sparse attention, unreorder, and the
// linear path merged last (it works within frames, in frame-major order, so
// it takes the original q/k/v and the un-reordered sparse result).
//
//===----------------------------------------------------------------------===//

#include "dialect/SattnOps.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>

namespace sattn {
#define GEN_PASS_DEF_SATTNEXPAND
#include "passes/Passes.h.inc"
} // namespace sattn

using namespace mlir;

namespace sattn {
namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

class Expander {
public:
  Expander(AttentionOp op)
      : op(op), b(op), loc(op.getLoc()), v(op.getVariant().getParams()),
        f32(b.getF32Type()), i32(b.getI32Type()) {
    const ProblemParams &p = v.problem;
    batch = p.batch;
    heads = p.heads;
    seq = p.seqLen();
    dim = p.headDim;
    layout = ProblemAttr::get(b.getContext(), p);
  }

  Value run() {
    Value q = op.getQ(), k = op.getK(), vv = op.getV();
    const std::vector<Route> &routing = v.linear.routing;
    bool linearOnly =
        v.linear.enabled && routing.size() == 1 && routing[0] == Route::Linear;
    if (linearOnly)
      return linear(q, k, vv, Value(), Value());

    bool reorders = v.reorder.kind != ReorderKind::Identity;
    ReorderAttr order =
        ReorderAttr::get(b.getContext(), v.reorder.kind, v.reorder.tile);
    auto permute = [&](Value x) {
      return reorders ? ReorderOp::create(b, loc, x.getType(), x, order, layout)
                            .getResult()
                      : x;
    };
    Value qr = permute(q), kr = permute(k), vr = permute(vv);

    // Scoring means: softmax-sum pools once over the scoring tiles; logit
    // pools queries per block and keys per group of each level.
    bool softmaxSum = v.scoring.aggregate == ScoreAggregate::SoftmaxSum;
    Value queryMeans = pool(qr, softmaxSum ? v.scoring.poolQ : v.block.q);
    Value keyTileMeans = softmaxSum ? pool(kr, v.scoring.poolK) : Value();

    ScoringAttr scoring =
        ScoringAttr::get(b.getContext(), v.scoring.poolQ, v.scoring.poolK,
                         v.scoring.aggregate, v.levels());
    SelectionAttr selection = SelectionAttr::get(
        b.getContext(), v.selection.rule, F64{v.selection.density},
        F64{v.selection.p}, F64{v.selection.threshold}, v.selection.keep);
    AdaptiveAttr adaptive;
    if (v.adaptive.enabled)
      adaptive = AdaptiveAttr::get(
          b.getContext(), true, F64{v.adaptive.targetRecall},
          F64{v.adaptive.minDensity}, F64{v.adaptive.maxDensity});

    // The selection, level by level; with adaptive densities first a probe
    // at max_density (up to the final level's scores), each head's density
    // from its estimated recall curve, then the selection with those
    // densities (Pipeline.cpp computeMask). The first level's scores do not
    // depend on any selection and serve both.
    Value groupKeyMeans;
    auto keyMeansFor = [&](int64_t group) {
      return softmaxSum ? keyTileMeans : pool(kr, group); // pool() reuses
    };
    struct Chain {
      Value scores, groups, counts;
      std::optional<int64_t> parentGroup;
    };
    Value firstScores;
    auto runChain = [&](std::optional<double> fixedDensity, Value densities,
                        bool stopAtFinalScores) {
      Chain c;
      std::vector<int64_t> levels = v.levels();
      for (size_t l = 0; l < levels.size(); ++l) {
        int64_t group = levels[l];
        Value keyMeans = keyMeansFor(group);
        if (group == v.block.k && !softmaxSum)
          groupKeyMeans = keyMeans;
        int64_t numGroups = ceilDiv(seq, group);
        if (l == 0 && firstScores) {
          c.scores = firstScores;
        } else {
          auto scoreOp = ScoreOp::create(
              b, loc, tensor({numQueryBlocks(), numGroups}, f32), queryMeans,
              keyMeans, c.groups, c.counts, c.parentGroup ? c.scores : Value(),
              scoring, b.getI64IntegerAttr(v.block.q),
              b.getI64IntegerAttr(group),
              c.parentGroup ? b.getI64IntegerAttr(*c.parentGroup)
                            : IntegerAttr(),
              b.getI64IntegerAttr(seq), b.getF64FloatAttr(scale()));
          c.scores = scoreOp.getScores();
          if (l == 0)
            firstScores = c.scores;
        }
        if (stopAtFinalScores && l + 1 == levels.size())
          return c;
        auto selectOp = SelectOp::create(
            b, loc, tensor({numQueryBlocks(), numGroups}, i32),
            tensor({numQueryBlocks()}, i32), tensor({numQueryBlocks()}, f32),
            c.scores, c.groups, c.counts, densities, selection,
            AdaptiveAttr(), layout, b.getI64IntegerAttr(v.block.q),
            b.getI64IntegerAttr(group),
            c.parentGroup ? b.getI64IntegerAttr(*c.parentGroup)
                          : IntegerAttr(),
            fixedDensity ? b.getF64FloatAttr(*fixedDensity) : FloatAttr());
        c.groups = selectOp.getGroups();
        c.counts = selectOp.getCounts();
        c.parentGroup = group;
      }
      return c;
    };
    Value densities;
    if (adaptive) {
      Chain probe = runChain(v.adaptive.maxDensity, Value(), true);
      int64_t group = v.levels().back();
      densities = AdaptiveDensityOp::create(
          b, loc, RankedTensorType::get({batch, heads}, b.getF64Type()),
          probe.scores,
          probe.groups, probe.counts, selection, adaptive, layout,
          b.getI64IntegerAttr(v.block.q), b.getI64IntegerAttr(group),
          probe.parentGroup ? b.getI64IntegerAttr(*probe.parentGroup)
                            : IntegerAttr());
    }
    Chain final = runChain(std::nullopt, densities, false);
    Value scores = final.scores, groups = final.groups, counts = final.counts;

    Value tailKeys, tailValues, tailLogCounts;
    if (v.tail.bins > 0) {
      if (!groupKeyMeans)
        groupKeyMeans = pool(kr, v.block.k);
      Value groupValueMeans = pool(vr, v.block.k);
      int64_t bins = v.tail.bins;
      auto tail = TailBinsOp::create(
          b, loc, tensor({numQueryBlocks(), bins, dim}, f32),
          tensor({numQueryBlocks(), bins, dim}, f32),
          tensor({numQueryBlocks(), bins}, f32), scores, groups, counts,
          groupKeyMeans, groupValueMeans, b.getI64IntegerAttr(bins),
          b.getI64IntegerAttr(v.block.k), b.getI64IntegerAttr(seq));
      tailKeys = tail.getTailKeys();
      tailValues = tail.getTailValues();
      tailLogCounts = tail.getTailLogCounts();
    }

    // The linear path merges by each row's log-sum-exp.
    bool wantLse = v.linear.enabled;
    Type lseType = wantLse ? tensor({seq}, f32) : Type();
    auto attention = SparseAttentionOp::create(
        b, loc, q.getType(), lseType, qr, kr, vr, groups, counts, tailKeys,
        tailValues, tailLogCounts, b.getI64IntegerAttr(v.block.q),
        b.getI64IntegerAttr(v.block.k), b.getF64FloatAttr(scale()),
        ReorderAttr(), ProblemAttr());
    auto unpermute = [&](Value x) {
      return reorders
                 ? UnreorderOp::create(b, loc, x.getType(), x, order, layout)
                       .getResult()
                 : x;
    };
    Value out = unpermute(attention.getOut());
    if (!v.linear.enabled)
      return out;
    return linear(q, k, vv, out, unpermute(attention.getLse()));
  }

private:
  double scale() const { return v.problem.softmaxScale(); }
  int64_t numQueryBlocks() const { return ceilDiv(seq, v.block.q); }

  /// `[B, H, trailing...]` tensor.
  RankedTensorType tensor(ArrayRef<int64_t> trailing, Type element) {
    SmallVector<int64_t> shape = {batch, heads};
    shape.append(trailing.begin(), trailing.end());
    return RankedTensorType::get(shape, element);
  }

  Value pool(Value x, int64_t tile) {
    auto key = std::make_pair(x.getAsOpaquePointer(), tile);
    auto it = pooled.find(key);
    if (it != pooled.end())
      return it->second;
    Value means = PoolOp::create(b, loc, tensor({ceilDiv(seq, tile), dim}, f32),
                                 x, b.getI64IntegerAttr(tile), ReorderAttr(),
                                 ProblemAttr());
    pooled[key] = means;
    return means;
  }

  Value linear(Value q, Value k, Value vv, Value sparseOut, Value sparseLse) {
    LinearAttr attr =
        LinearAttr::get(b.getContext(), v.linear.enabled, v.linear.routing);
    return LinearAttentionOp::create(b, loc, q.getType(), q, k, vv, sparseOut,
                                     sparseLse, attr, layout);
  }

  AttentionOp op;
  OpBuilder b;
  Location loc;
  VariantParams v;
  Type f32, i32;
  int64_t batch, heads, seq, dim;
  ProblemAttr layout;
  std::map<std::pair<const void *, int64_t>, Value> pooled;
};

struct SattnExpandPass : public impl::SattnExpandBase<SattnExpandPass> {
  void runOnOperation() override {
    SmallVector<AttentionOp> ops;
    getOperation()->walk([&](AttentionOp op) { ops.push_back(op); });
    for (AttentionOp op : ops) {
      Value out = Expander(op).run();
      op.replaceAllUsesWith(out);
      op.erase();
    }
  }
};

} // namespace
} // namespace sattn
