//===- SattnOps.cpp - Verifiers of the sattn ops
//---------------------------===//
//
// The verifiers check that the tensor shapes agree with each other and with
// the tile sizes (see the shape names at the top of SattnOps.td), and that
// the section attributes an op carries pass the same validation, with the
// same messages, as a whole variant does.
//
//===----------------------------------------------------------------------===//

#include "dialect/SattnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpImplementation.h"

#include <cstdio>

using namespace mlir;

namespace sattn {
namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

int64_t ceilDiv(int64_t a, int64_t b) {
  return a == kDyn ? kDyn : (a + b - 1) / b;
}

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string out;
  llvm::raw_string_ostream os(out);
  llvm::interleave(
      shape, os,
      [&](int64_t d) { os << (d == kDyn ? "?" : std::to_string(d)); }, "x");
  return out;
}

/// `value`'s shape must equal `expected` where both are known.
LogicalResult checkShape(Operation *op, StringRef what, Value value,
                         ArrayRef<int64_t> expected) {
  auto type = cast<ShapedType>(value.getType());
  bool same = type.getRank() == int64_t(expected.size());
  for (int64_t i = 0; same && i < type.getRank(); ++i)
    same = type.getDimSize(i) == kDyn || expected[i] == kDyn ||
           type.getDimSize(i) == expected[i];
  if (same)
    return success();
  return op->emitOpError() << what << " has shape "
                           << shapeString(type.getShape()) << ", expected "
                           << shapeString(expected);
}

/// Dimension `i` of a shaped value.
int64_t dim(Value value, unsigned i) {
  return cast<ShapedType>(value.getType()).getDimSize(i);
}

/// Runs the variant checks on a variant made of `params`' sections.
LogicalResult checkSections(Operation *op, const VariantParams &params) {
  if (auto issue = validateVariant(params))
    return op->emitOpError() << issue->str();
  return success();
}

LogicalResult checkOneOf(Operation *op, StringRef field, int64_t value,
                         std::initializer_list<int64_t> allowed) {
  if (llvm::is_contained(allowed, value))
    return success();
  return op->emitOpError() << fieldIssue(field, "unsupported value " +
                                                    std::to_string(value))
                                  .str();
}

/// Index lists `[B, H, NQ, C]` with C <= G, and their counts `[B, H, NQ]`.
LogicalResult checkIndexLists(Operation *op, StringRef what, Value groups,
                              Value counts, int64_t b, int64_t h, int64_t nq,
                              int64_t numGroups) {
  if (failed(checkShape(op, what, groups, {b, h, nq, kDyn})) ||
      failed(checkShape(op, (what + " counts").str(), counts, {b, h, nq})))
    return failure();
  int64_t capacity = dim(groups, 3);
  if (capacity != kDyn && numGroups != kDyn && capacity > numGroups)
    return op->emitOpError() << what << " hold " << capacity
                             << " entries per row, but there are only "
                             << numGroups << " key groups";
  return success();
}
} // namespace

void AttentionOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getOut(), "out");
}
void ReorderOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), "reordered");
}
void UnreorderOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getResult(), "unreordered");
}
void PoolOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getMeans(), "means");
}
void ScoreOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getScores(), "scores");
}
void AdaptiveDensityOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getHeadDensity(), "densities");
}
void LinearAttentionOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  setName(getOut(), "out");
}

LogicalResult AttentionOp::verify() {
  VariantParams v = getVariant().getParams();
  const ProblemParams &p = v.problem;
  if (failed(checkShape(*this, "q", getQ(),
                        {p.batch, p.heads, p.seqLen(), p.headDim})))
    return failure();
  Type element = getQ().getType().getElementType();
  bool bf16 = isa<BFloat16Type>(element), fp16 = isa<Float16Type>(element);
  if ((bf16 || fp16) && (bf16 != (p.dtype == DType::BF16)))
    return emitOpError() << "problem.dtype: is " << toString(p.dtype)
                         << " but the operands are " << element;
  return success();
}

/// `order` over `layout` is a valid token order (SPEC §3), and `x`
/// ([B, H, S, ...]) has the layout's S tokens; `tokens` words the mismatch.
static LogicalResult verifyOrder(Operation *op, ReorderAttr order,
                                 ProblemAttr layout, Value x,
                                 function_ref<void(InFlightDiagnostic &,
                                                   int64_t, int64_t)>
                                     tokens) {
  VariantParams v;
  v.problem = layout.getParams();
  v.reorder.kind = order.getKind();
  v.reorder.tile.assign(order.getTile().begin(), order.getTile().end());
  if (failed(checkSections(op, v)))
    return failure();
  if (dim(x, 2) != kDyn && dim(x, 2) != v.problem.seqLen()) {
    InFlightDiagnostic diag = op->emitOpError();
    tokens(diag, dim(x, 2), v.problem.seqLen());
    return diag;
  }
  return success();
}

template <typename Op> static LogicalResult verifyPermute(Op op) {
  return verifyOrder(op, op.getOrder(), op.getLayout(), op.getInput(),
                     [](InFlightDiagnostic &d, int64_t got, int64_t want) {
                       d << "input has " << got
                         << " tokens but the layout has " << want;
                     });
}
LogicalResult ReorderOp::verify() { return verifyPermute(*this); }
LogicalResult UnreorderOp::verify() { return verifyPermute(*this); }

/// `token_order` and `layout` come together, and the layout has the
/// sequence's length: the op reads its activations through that order.
template <typename Op> static LogicalResult verifyTokenOrder(Op op, Value x) {
  if (bool(op.getTokenOrderAttr()) != bool(op.getLayoutAttr()))
    return op.emitOpError() << "token_order and layout come together";
  if (!op.getTokenOrderAttr())
    return success();
  return verifyOrder(op, op.getTokenOrderAttr(), op.getLayoutAttr(), x,
                     [](InFlightDiagnostic &d, int64_t got, int64_t want) {
                       d << "reads " << got
                         << " tokens through a token order of " << want;
                     });
}

LogicalResult PoolOp::verify() {
  Value in = getInput();
  if (failed(verifyTokenOrder(*this, in)))
    return failure();
  return checkShape(
      *this, "means", getMeans(),
      {dim(in, 0), dim(in, 1), ceilDiv(dim(in, 2), getTile()), dim(in, 3)});
}

LogicalResult ScoreOp::verify() {
  VariantParams v;
  ScoringAttr scoring = getScoring();
  v.scoring.poolQ = scoring.getPoolQ();
  v.scoring.poolK = scoring.getPoolK();
  v.scoring.aggregate = scoring.getAggregate();
  int64_t s = getSeqLen(), blockQ = getBlockQ(), group = getGroup();
  int64_t nq = ceilDiv(s, blockQ), numGroups = ceilDiv(s, group);
  if (blockQ % v.scoring.poolQ != 0 || group % v.scoring.poolK != 0)
    return emitOpError() << "scoring tiles " << v.scoring.poolQ << "x"
                         << v.scoring.poolK
                         << " do not divide block_q = " << blockQ
                         << " and group = " << group;
  Value qm = getQueryMeans();
  int64_t b = dim(qm, 0), h = dim(qm, 1), d = dim(qm, 3);
  bool softmaxSum = v.scoring.aggregate == ScoreAggregate::SoftmaxSum;
  int64_t queryTiles = softmaxSum ? ceilDiv(s, v.scoring.poolQ) : nq;
  int64_t keyTiles = softmaxSum ? ceilDiv(s, v.scoring.poolK) : numGroups;
  if (failed(checkShape(*this, "query_means", qm, {b, h, queryTiles, d})) ||
      failed(
          checkShape(*this, "key_means", getKeyMeans(), {b, h, keyTiles, d})) ||
      failed(checkShape(*this, "scores", getScores(), {b, h, nq, numGroups})))
    return failure();
  if (!getParentGroups())
    return success();
  if (!getParentGroup())
    return emitOpError() << "parents given without parent_group";
  int64_t parent = *getParentGroup();
  if (parent <= group || parent % group != 0)
    return emitOpError() << "parent_group " << parent
                         << " is not a larger multiple of group " << group;
  int64_t parentGroups = ceilDiv(s, parent);
  if (failed(checkIndexLists(*this, "parent groups", getParentGroups(),
                             getParentCounts(), b, h, nq, parentGroups)))
    return failure();
  return checkShape(*this, "parent_scores", getParentScores(),
                    {b, h, nq, parentGroups});
}

/// The parent level's lists of a selection-like op, when it has them:
/// [B, H, NQ, G_parent] with their counts, and parent_group given.
static LogicalResult checkParents(Operation *op, Value parentGroups,
                                  Value parentCounts,
                                  std::optional<uint64_t> parentGroup,
                                  int64_t b, int64_t h, int64_t nq,
                                  int64_t s) {
  if (!parentGroups)
    return success();
  if (!parentGroup)
    return op->emitOpError() << "parents given without parent_group";
  return checkIndexLists(op, "parent groups", parentGroups, parentCounts, b,
                         h, nq, ceilDiv(s, int64_t(*parentGroup)));
}

LogicalResult SelectOp::verify() {
  VariantParams v;
  v.problem = getLayout().getParams();
  SelectionAttr sel = getSelection();
  v.selection.rule = sel.getRule();
  v.selection.density = sel.getDensity().value;
  v.selection.p = sel.getP().value;
  v.selection.threshold = sel.getThreshold().value;
  v.selection.keep.assign(sel.getKeep().begin(), sel.getKeep().end());
  if (AdaptiveAttr adaptive = getAdaptiveAttr()) {
    v.adaptive.targetRecall = adaptive.getTargetRecall().value;
    v.adaptive.minDensity = adaptive.getMinDensity().value;
    v.adaptive.maxDensity = adaptive.getMaxDensity().value;
  }
  if (failed(checkSections(*this, v)))
    return failure();
  Value scores = getScores();
  int64_t b = dim(scores, 0), h = dim(scores, 1);
  int64_t s = v.problem.seqLen();
  int64_t nq = ceilDiv(s, getBlockQ()), numGroups = ceilDiv(s, getGroup());
  if (failed(checkShape(*this, "scores", scores, {b, h, nq, numGroups})) ||
      failed(checkIndexLists(*this, "groups", getGroups(), getCounts(), b, h,
                             nq, numGroups)) ||
      failed(checkShape(*this, "recall", getRecall(), {b, h, nq})))
    return failure();
  if (getHeadDensity() &&
      failed(checkShape(*this, "densities", getHeadDensity(), {b, h})))
    return failure();
  if (getHeadDensity() && getDensity())
    return emitOpError() << "takes densities or a density, not both";
  if (FloatAttr d = getDensityAttr()) {
    double value = d.getValueAsDouble();
    if (value <= 0 || value > 1) {
      char text[32];
      std::snprintf(text, sizeof text, "%g", value);
      return emitOpError() << "density " << text << " is outside (0, 1]";
    }
  }
  return checkParents(*this, getParentGroups(), getParentCounts(),
                      getParentGroup(), b, h, nq, s);
}

LogicalResult AdaptiveDensityOp::verify() {
  ProblemParams problem = getLayout().getParams();
  Value scores = getScores();
  int64_t b = dim(scores, 0), h = dim(scores, 1);
  int64_t s = problem.seqLen();
  int64_t nq = ceilDiv(s, getBlockQ()), numGroups = ceilDiv(s, getGroup());
  if (failed(checkShape(*this, "scores", scores, {b, h, nq, numGroups})) ||
      failed(checkShape(*this, "head_density", getHeadDensity(), {b, h})))
    return failure();
  return checkParents(*this, getParentGroups(), getParentCounts(),
                      getParentGroup(), b, h, nq, s);
}

LogicalResult TailBinsOp::verify() {
  if (getBins() > 64)
    return emitOpError() << fieldIssue("tail.bins",
                                       "value " + std::to_string(getBins()) +
                                           " is out of range")
                                .str();
  Value scores = getScores();
  int64_t b = dim(scores, 0), h = dim(scores, 1), bins = getBins();
  int64_t nq = dim(scores, 2), numGroups = ceilDiv(getSeqLen(), getGroup());
  int64_t d = dim(getKeyMeans(), 3);
  if (failed(checkShape(*this, "scores", scores, {b, h, nq, numGroups})) ||
      failed(checkIndexLists(*this, "groups", getGroups(), getCounts(), b, h,
                             nq, numGroups)) ||
      failed(checkShape(*this, "key_means", getKeyMeans(),
                        {b, h, numGroups, d})) ||
      failed(checkShape(*this, "value_means", getValueMeans(),
                        {b, h, numGroups, d})) ||
      failed(
          checkShape(*this, "tail_keys", getTailKeys(), {b, h, nq, bins, d})) ||
      failed(checkShape(*this, "tail_values", getTailValues(),
                        {b, h, nq, bins, d})))
    return failure();
  return checkShape(*this, "tail_log_counts", getTailLogCounts(),
                    {b, h, nq, bins});
}

LogicalResult SparseAttentionOp::verify() {
  if (failed(verifyTokenOrder(*this, getQ())))
    return failure();
  if (failed(checkOneOf(*this, "block.q", getBlockQ(), {64, 128})) ||
      failed(checkOneOf(*this, "block.k", getBlockK(), {16, 32, 64, 128})))
    return failure();
  if (!(getScale().convertToDouble() > 0))
    return emitOpError()
           << fieldIssue("problem.scale", "is not positive").str();
  Value q = getQ();
  int64_t b = dim(q, 0), h = dim(q, 1), s = dim(q, 2), d = dim(q, 3);
  if (d != kDyn && failed(checkOneOf(*this, "problem.head_dim", d, {64, 128})))
    return failure();
  int64_t nq = ceilDiv(s, getBlockQ());
  if (failed(checkIndexLists(*this, "groups", getGroups(), getCounts(), b, h,
                             nq, ceilDiv(s, getBlockK()))))
    return failure();
  if (getTailKeys()) {
    if (!getTailValues() || !getTailLogCounts())
      return emitOpError() << "tail needs keys, values and log counts";
    int64_t bins = dim(getTailKeys(), 3);
    if (failed(checkShape(*this, "tail_keys", getTailKeys(),
                          {b, h, nq, bins, d})) ||
        failed(checkShape(*this, "tail_values", getTailValues(),
                          {b, h, nq, bins, d})) ||
        failed(checkShape(*this, "tail_log_counts", getTailLogCounts(),
                          {b, h, nq, bins})))
      return failure();
  }
  if (getLse())
    return checkShape(*this, "lse", getLse(), {b, h, s});
  return success();
}

LogicalResult LinearAttentionOp::verify() {
  VariantParams v;
  v.problem = getLayout().getParams();
  v.linear.enabled = getLinear().getEnabled();
  v.linear.routing.assign(getLinear().getRouting().begin(),
                          getLinear().getRouting().end());
  if (failed(checkSections(*this, v)))
    return failure();
  Value q = getQ();
  int64_t b = dim(q, 0), h = dim(q, 1), s = dim(q, 2);
  if (s != kDyn && s != v.problem.seqLen())
    return emitOpError() << "q has " << s << " tokens but the layout has "
                         << v.problem.seqLen();
  if (bool(getSparseOut()) != bool(getSparseLse()))
    return emitOpError() << "merge needs both the sparse output and its lse";
  if (getSparseOut()) {
    if (getSparseOut().getType() != q.getType())
      return emitOpError() << "sparse_out type " << getSparseOut().getType()
                           << " differs from q type " << q.getType();
    return checkShape(*this, "sparse_lse", getSparseLse(), {b, h, s});
  }
  return success();
}

} // namespace sattn

#define GET_OP_CLASSES
#include "dialect/SattnOps.cpp.inc"
