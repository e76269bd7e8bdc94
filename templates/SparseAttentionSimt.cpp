//===- SparseAttentionSimt.cpp - Portable block-sparse attention ----------===//
//
// Shape: one thread block per (query block, head, batch): grid
// (ceil(S / blockQ), H, B), `warps` warps. Each warp takes the block's rows
// r = warp, warp + warps, ...; a row's head_dim values are spread over the 32
// lanes, D / 32 contiguous values per lane (one 4- or 8-byte load).
//
// Per row: for each kept key group (groups[b, h, i, 0 .. counts[b, h, i])),
// for each of its blockK keys: q.k by a lane-local dot product and a
// butterfly reduction over the warp, then the online-softmax update in fp32
// (base-2 exponentials, logits pre-scaled by log2 e). The tail bins' virtual
// keys follow as extra keys with `+ log n_b` on their logits (SPEC §4.5).
//
// Memory traffic: every warp reads each kept key and value row once from
// global memory (L2 serves the other warps of the block); no shared memory,
// no barriers. This is the correctness baseline that runs anywhere; the
// tensor-core templates are the fast paths.
//
//===----------------------------------------------------------------------===//

#include "templates/SparseAttentionSimt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;

namespace sattn {

namespace {

/// The running state of one row's online softmax, in base 2.
struct Softmax {
  Value max, sum, acc;
};

class SimtBuilder : public KernelOps {
public:
  SimtBuilder(ImplicitLocOpBuilder &b, const AttentionKernelParams &p)
      : KernelOps(b), p(p), f32Type(b.getF32Type()), lanes(p.headDim / 32),
        rowType(VectorType::get({lanes}, f32Type)) {}

  /// This lane's `lanes` values of a row starting at `offset`, as f32.
  Value loadRow(Value view, Value offset, Type element) {
    auto type = VectorType::get({lanes}, element);
    unsigned bytes = lanes * element.getIntOrFloatBitWidth() / 8;
    Value row =
        vector::LoadOp::create(b, type, view, ValueRange{offset},
                               /*nontemporal=*/false, llvm::MaybeAlign(bytes));
    return element == f32Type ? row : arith::ExtFOp::create(b, rowType, row);
  }

  /// q . k over the whole warp: lane-local products, then a butterfly sum.
  Value warpDot(Value qRow, Value kRow) {
    Value sum = vector::ReductionOp::create(
        b, vector::CombiningKind::ADD, arith::MulFOp::create(b, qRow, kRow));
    for (int32_t offset = 16; offset >= 1; offset /= 2) {
      Value other = gpu::ShuffleOp::create(b, sum, offset, /*width=*/32,
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      sum = arith::AddFOp::create(b, sum, other);
    }
    return sum;
  }

  /// Adds a key with base-2 logit `logit` and value row `vRow`.
  Softmax update(Softmax s, Value logit, Value vRow) {
    Value max = arith::MaximumFOp::create(b, s.max, logit);
    Value correction = exp2(arith::SubFOp::create(b, s.max, max));
    Value weight = exp2(arith::SubFOp::create(b, logit, max));
    Value sum = arith::AddFOp::create(
        b, arith::MulFOp::create(b, s.sum, correction), weight);
    Value scaled = arith::MulFOp::create(
        b, s.acc, vector::BroadcastOp::create(b, rowType, correction));
    Value acc = vector::FMAOp::create(
        b, vector::BroadcastOp::create(b, rowType, weight), vRow, scaled);
    return {max, sum, acc};
  }

  /// scf.for over [lb, ub) carrying a Softmax; `body` builds at the loop's
  /// insertion point through this builder.
  Softmax loop(Value lb, Value ub, Softmax init,
               function_ref<Softmax(Value, Softmax)> body) {
    auto forOp = scf::ForOp::create(b, lb, ub, index(1),
                                    ValueRange{init.max, init.sum, init.acc});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    ValueRange args = forOp.getRegionIterArgs();
    Softmax next = body(forOp.getInductionVar(), {args[0], args[1], args[2]});
    scf::YieldOp::create(b, ValueRange{next.max, next.sum, next.acc});
    return {forOp.getResult(0), forOp.getResult(1), forOp.getResult(2)};
  }

  const AttentionKernelParams &p;
  Type f32Type;
  int64_t lanes;
  VectorType rowType;
};

} // namespace

gpu::GPUFuncOp buildSparseAttentionSimt(OpBuilder &builder,
                                        gpu::GPUModuleOp module,
                                        const AttentionKernelParams &p) {
  MLIRContext *ctx = builder.getContext();
  std::vector<KernelParam> params = sparseAttentionParams(ctx, p);
  int32_t threads = int32_t(p.warps * 32);
  gpu::GPUFuncOp func =
      createKernel(builder, module, p.name, params, {threads, 1, 1});
  Block &entry = func.getBody().front();
  auto arg = [&](StringRef name, int64_t dim = -1) {
    return entry.getArgument(paramIndex(params, name, dim));
  };

  ImplicitLocOpBuilder b(func.getLoc(), builder);
  b.setInsertionPointToStart(&entry);
  SimtBuilder s(b, p);
  Type element =
      p.dtype == DType::BF16 ? Type(b.getBF16Type()) : Type(b.getF16Type());
  Type f32 = b.getF32Type();

  AttentionEntry e = readAttentionEntry(s, p, arg);
  Value seqLen = e.seqLen, scaleLog2 = e.scaleLog2, count = e.count;
  Value row = e.row;
  Value laneOffset = s.mul(e.lane, s.index(s.lanes));
  AttentionEntry::Tensor q = e.q, k = e.k, v = e.v, o = e.out;
  auto tokenOffset = [&](const AttentionEntry::Tensor &t, Value token) {
    return s.add(s.add(t.base, s.mul(token, t.tokenStride)), laneOffset);
  };

  auto rows =
      scf::ForOp::create(b, e.warp, s.index(p.blockQ), s.index(p.warps));
  b.setInsertionPointToStart(rows.getBody());
  Value token = s.add(e.blockStart, rows.getInductionVar());
  Value inRange = s.ult(token, seqLen);
  auto ifInRange = scf::IfOp::create(b, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&ifInRange.getThenRegion().front());

  Value tokenRow = e.rowOf(s, token); // q and out (SPEC: frame-major)
  Value qRow = s.loadRow(q.view, tokenOffset(q, tokenRow), element);
  Softmax state{
      s.f32(-INFINITY), s.f32(0),
      arith::ConstantOp::create(
          b, DenseElementsAttr::get(s.rowType, b.getF32FloatAttr(0)))};

  // Kept key groups, then each group's keys.
  state = s.loop(s.index(0), count, state, [&](Value i, Softmax st) {
    Value group = s.toIndex(e.groupAt(s, i));
    Value first = s.mul(group, s.index(p.blockK));
    Value last = s.min(s.add(first, s.index(p.blockK)), seqLen);
    return s.loop(first, last, st, [&](Value key, Softmax inner) {
      Value keyRow = e.rowOf(s, key);
      Value kRow = s.loadRow(k.view, tokenOffset(k, keyRow), element);
      Value logit = arith::MulFOp::create(b, s.warpDot(qRow, kRow), scaleLog2);
      Value vRow = s.loadRow(v.view, tokenOffset(v, keyRow), element);
      return s.update(inner, logit, vRow);
    });
  });

  // Tail bins: virtual keys with logit q.k_b * scale + log n_b.
  if (p.bins > 0) {
    Value tailKeys = globalView(b, arg("tail_keys"), f32);
    Value tailValues = globalView(b, arg("tail_values"), f32);
    Value tailLogCounts = globalView(b, arg("tail_log_counts"), f32);
    Value binBase = s.mul(row, s.index(p.bins));
    Value bins = s.select(e.dense, s.index(0), s.index(p.bins));
    state = s.loop(s.index(0), bins, state, [&](Value bin, Softmax st) {
          Value binRow = s.add(binBase, bin);
          Value offset = s.add(s.mul(binRow, s.index(p.headDim)), laneOffset);
          Value kRow = s.loadRow(tailKeys, offset, f32);
          Value logCount =
              memref::LoadOp::create(b, tailLogCounts, ValueRange{binRow});
          Value logit = arith::AddFOp::create(
              b, arith::MulFOp::create(b, s.warpDot(qRow, kRow), scaleLog2),
              arith::MulFOp::create(b, logCount, s.f32(kLog2e)));
          return s.update(st, logit, s.loadRow(tailValues, offset, f32));
        });
  }

  // out = acc / sum; a row with no keys at all gets zeros, not NaN.
  Value hasKeys =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, state.sum, s.f32(0));
  Value inverse = arith::SelectOp::create(
      b, hasKeys, arith::DivFOp::create(b, s.f32(1), state.sum), s.f32(0));
  Value outRow = arith::MulFOp::create(
      b, state.acc, vector::BroadcastOp::create(b, s.rowType, inverse));
  Value outCast =
      arith::TruncFOp::create(b, VectorType::get({s.lanes}, element), outRow);
  unsigned outBytes = s.lanes * element.getIntOrFloatBitWidth() / 8;
  vector::StoreOp::create(b, outCast, o.view, ValueRange{tokenOffset(o, tokenRow)},
                          /*nontemporal=*/false, llvm::MaybeAlign(outBytes));

  if (p.writeLse) {
    // Natural-log log-sum-exp of the row, [B, H, S] contiguous.
    Value lse = arith::SelectOp::create(
        b, hasKeys,
        arith::MulFOp::create(
            b, arith::AddFOp::create(b, state.max, s.log2(state.sum)),
            s.f32(kLn2)),
        s.f32(-INFINITY));
    Value isLaneZero =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, e.lane, s.index(0));
    auto ifLaneZero = scf::IfOp::create(b, isLaneZero, false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifLaneZero.getThenRegion().front());
    Value lseIndex = s.add(s.mul(e.batchHead, seqLen), tokenRow);
    memref::StoreOp::create(b, lse, globalView(b, arg("lse"), f32),
                            ValueRange{lseIndex});
  }

  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b);
  return func;
}

} // namespace sattn
