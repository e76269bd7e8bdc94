//===- FuseReorder.cpp - sattn.reorder folded into the readers -------------===//
//
// The reorder and unreorder stages move every byte of q, k, v and the output
// once more (about 0.9 ms per step at wan2.1-480p on an H100, a sixth of the
// attention itself). The kernels that read those tensors can instead read
// row pi(t) where they read row t, and the attention kernel can store row t
// of its output to pi(t): this pass marks them so (`token_order`) and drops
// the copies. Both forms compute the same values; `sattnc --fuse-reorder`
// picks one (bench/NOTES-pipeline.md compares them).
//
//===----------------------------------------------------------------------===//

#include "dialect/SattnOps.h"
#include "passes/Passes.h"

#include "llvm/ADT/STLExtras.h"

namespace sattn {
#define GEN_PASS_DEF_SATTNFUSEREORDER
#include "passes/Passes.h.inc"
} // namespace sattn

using namespace mlir;

namespace sattn {
namespace {

/// The reorder that produced `x`, if any.
ReorderOp reorderOf(Value x) { return x.getDefiningOp<ReorderOp>(); }

bool sameOrder(ReorderOp a, ReorderOp b) {
  return a.getOrder() == b.getOrder() && a.getLayout() == b.getLayout();
}

void fusePool(PoolOp pool) {
  ReorderOp reorder = reorderOf(pool.getInput());
  if (!reorder || pool.getTokenOrderAttr())
    return;
  pool.getInputMutable().assign(reorder.getInput());
  pool.setTokenOrderAttr(reorder.getOrder());
  pool.setLayoutAttr(reorder.getLayout());
}

/// Fuses when q, k and v come from one order and every use of the results
/// is an unreorder by that order (the pipeline's shape); else leaves the op.
void fuseAttention(SparseAttentionOp attention) {
  if (attention.getTokenOrderAttr())
    return;
  ReorderOp q = reorderOf(attention.getQ()), k = reorderOf(attention.getK()),
            v = reorderOf(attention.getV());
  if (!q || !k || !v || !sameOrder(q, k) || !sameOrder(q, v))
    return;
  SmallVector<UnreorderOp> unreorders;
  for (Value result : attention->getResults())
    for (Operation *user : result.getUsers()) {
      auto unreorder = dyn_cast<UnreorderOp>(user);
      if (!unreorder || unreorder.getOrder() != q.getOrder() ||
          unreorder.getLayout() != q.getLayout())
        return;
      unreorders.push_back(unreorder);
    }
  attention.getQMutable().assign(q.getInput());
  attention.getKMutable().assign(k.getInput());
  attention.getVMutable().assign(v.getInput());
  attention.setTokenOrderAttr(q.getOrder());
  attention.setLayoutAttr(q.getLayout());
  for (UnreorderOp unreorder : unreorders) {
    unreorder.getResult().replaceAllUsesWith(unreorder.getInput());
    unreorder.erase();
  }
}

struct SattnFuseReorderPass
    : public impl::SattnFuseReorderBase<SattnFuseReorderPass> {
  void runOnOperation() override {
    // Collected first: fusing erases ops that a walk would visit next.
    SmallVector<PoolOp> pools;
    SmallVector<SparseAttentionOp> attentions;
    getOperation()->walk([&](PoolOp op) { pools.push_back(op); });
    getOperation()->walk(
        [&](SparseAttentionOp op) { attentions.push_back(op); });
    for (PoolOp op : pools)
      fusePool(op);
    for (SparseAttentionOp op : attentions)
      fuseAttention(op);
    SmallVector<ReorderOp> dead;
    getOperation()->walk([&](ReorderOp op) {
      if (op->use_empty())
        dead.push_back(op);
    });
    for (ReorderOp op : dead)
      op.erase();
  }
};

} // namespace
} // namespace sattn
