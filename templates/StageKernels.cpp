//===- StageKernels.cpp - Kernels of the pipeline stages ------------------===//
//
// Thread-block shapes:
//   reorder      grid (ceil(S/32), H, B), 128 threads: 16-byte row chunks
//   pool         grid (ceil(S/tile), H, B), D threads: 16-byte row chunks,
//                eight rows at a time
//   score        grid (NQ, H, B), 256 threads: key tiles / groups strided
//   select       grid (NQ, H, B), 256 threads: a bitonic sort per row
//   tail order   grid (NQ, H, B), 256 threads: a bitonic sort per row
//   tail values  grid (NQ, H, B), D threads: one channel each
// Every pool, score, select and tail array is contiguous [B, H, rows, ...]
// (workspace buffers); only reorder and pool read the caller's strided
// q/k/v (pool through the token order when the reorder is fused).
//
//===----------------------------------------------------------------------===//

#include "templates/StageKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;

namespace sattn {

namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t nextPowerOfTwo(int64_t n) {
  int64_t p = 1;
  while (p < n)
    p *= 2;
  return p;
}
std::string text(int64_t v) { return std::to_string(v); }

/// Sort keys: class (2 bits) << 52 | order-preserving score bits << 20 |
/// (kIndexMask - index). Sorting them in descending order puts forced
/// groups first (ascending index), then candidates by score, highest first
/// with ties to the lower index, then the rest; padding keys are 0.
constexpr int64_t kIndexBits = 20;
constexpr int64_t kIndexMask = (int64_t(1) << kIndexBits) - 1;
constexpr int64_t kClassShift = 52;

/// What the stage kernels share: thread coordinates, shared arrays, loops,
/// block-wide reductions and the bitonic sort.
class CtaBuilder : public KernelOps {
public:
  CtaBuilder(ImplicitLocOpBuilder &b, gpu::GPUFuncOp func, int64_t threads)
      : KernelOps(b), func(func), threads(threads) {
    tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
    blockX = gpu::BlockIdOp::create(b, gpu::Dimension::x);
    head = gpu::BlockIdOp::create(b, gpu::Dimension::y);
    batch = gpu::BlockIdOp::create(b, gpu::Dimension::z);
    gridX = gpu::GridDimOp::create(b, gpu::Dimension::x);
    heads = gpu::GridDimOp::create(b, gpu::Dimension::y);
    batchHead = add(mul(batch, heads), head);
    row = add(mul(batchHead, gridX), blockX);
    lane = rem(tid, index(32));
    warp = div(tid, index(32));
  }

  Value shared(int64_t n, Type element) {
    auto type = MemRefType::get(
        {n}, element, MemRefLayoutAttrInterface{},
        gpu::AddressSpaceAttr::get(b.getContext(),
                                   gpu::AddressSpace::Workgroup));
    BlockArgument array = func.addWorkgroupAttribution(type, b.getLoc());
    // 16-byte aligned: LLVM merges neighbouring accesses into 16-byte
    // vectors (ld.shared.v2.b64 in the sorts, v4.b32 in the reductions), and
    // the element type's own alignment let ptxas place an array where those
    // faulted (CUDA_ERROR_MISALIGNED_ADDRESS on the H100).
    func.setWorkgroupAttributionAttr(func.getNumWorkgroupAttributions() - 1,
                                     LLVM::LLVMDialect::getAlignAttrName(),
                                     b.getI64IntegerAttr(16));
    return array;
  }

  Value load(Value view, Value i) {
    return memref::LoadOp::create(b, view, ValueRange{i});
  }
  void store(Value value, Value view, Value i) {
    memref::StoreOp::create(b, value, view, ValueRange{i});
  }
  Value addf(Value x, Value y) { return arith::AddFOp::create(b, x, y); }
  Value subf(Value x, Value y) { return arith::SubFOp::create(b, x, y); }
  Value mulf(Value x, Value y) { return arith::MulFOp::create(b, x, y); }
  Value divf(Value x, Value y) { return arith::DivFOp::create(b, x, y); }
  Value maxf(Value x, Value y) { return arith::MaximumFOp::create(b, x, y); }
  Value cmpf(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, p, x, y);
  }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, p, x, y);
  }
  Value andi(Value x, Value y) { return arith::AndIOp::create(b, x, y); }
  Value ori(Value x, Value y) { return arith::OrIOp::create(b, x, y); }
  Value boolean(bool v) {
    return arith::ConstantOp::create(b, b.getBoolAttr(v));
  }
  Value i64(int64_t v) {
    return arith::ConstantOp::create(b, b.getI64IntegerAttr(v));
  }
  Value indexToF32(Value v) {
    Value i = arith::IndexCastOp::create(b, b.getI64Type(), v);
    return arith::SIToFPOp::create(b, b.getF32Type(), i);
  }
  Value indexToI32(Value v) {
    return arith::IndexCastOp::create(b, b.getI32Type(), v);
  }
  Value indexToI64(Value v) {
    return arith::IndexCastOp::create(b, b.getI64Type(), v);
  }
  /// Natural log (lg2.approx times ln 2).
  Value ln(Value x) { return mulf(log2(x), f32(kLn2)); }
  /// e^x (ex2.approx of x log2 e).
  Value exp(Value x) { return exp2(mulf(x, f32(kLog2e))); }

  void loop(Value lb, Value ub, Value step, function_ref<void(Value)> body) {
    auto forOp = scf::ForOp::create(b, lb, ub, step);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    body(forOp.getInductionVar());
  }
  /// for (i = tid; i < n; i += threads)
  void forThreads(Value n, function_ref<void(Value)> body) {
    loop(tid, n, index(threads), body);
  }
  SmallVector<Value>
  loopCarry(Value lb, Value ub, Value step, ValueRange init,
            function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = scf::ForOp::create(b, lb, ub, step, init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(forOp.getBody());
      scf::YieldOp::create(
          b, body(forOp.getInductionVar(), forOp.getRegionIterArgs()));
    }
    return SmallVector<Value>(forOp.getResults());
  }
  void ifThen(Value cond, function_ref<void()> body) {
    auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    body();
  }
  Value ifElse(Value cond, Type type, function_ref<Value()> thenBody,
               function_ref<Value()> elseBody) {
    auto ifOp = scf::IfOp::create(b, TypeRange{type}, cond, true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    scf::YieldOp::create(b, ValueRange{thenBody()});
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    scf::YieldOp::create(b, ValueRange{elseBody()});
    return ifOp.getResult(0);
  }
  void barrier() { gpu::BarrierOp::create(b); }

  Value shuffleXor(Value v, int32_t offset) {
    return gpu::ShuffleOp::create(b, v, offset, 32, gpu::ShuffleMode::XOR)
        .getShuffleResult();
  }

  /// A block-wide f32 sum or max, returned to every thread. `scratch` is a
  /// shared f32 array of at least threads / 32 entries, free on entry and
  /// on exit.
  Value blockReduce(Value v, bool isMax, Value scratch) {
    auto combine = [&](Value x, Value y) {
      return isMax ? maxf(x, y) : addf(x, y);
    };
    for (int32_t offset = 16; offset >= 1; offset /= 2)
      v = combine(v, shuffleXor(v, offset));
    ifThen(cmpi(arith::CmpIPredicate::eq, lane, index(0)),
           [&] { store(v, scratch, warp); });
    barrier();
    Value total = load(scratch, index(0));
    for (int64_t w = 1; w < threads / 32; ++w)
      total = combine(total, load(scratch, index(w)));
    barrier();
    return total;
  }

  /// A block-wide exclusive prefix sum of one i32 per thread (in thread
  /// order) and the block's total: shuffle scans within warps, the warp
  /// totals through `scratch` (i32, at least threads / 32 entries, free on
  /// entry and on exit).
  std::pair<Value, Value> blockExclusiveScan(Value v, Value scratch) {
    Value inclusive = v;
    for (int32_t offset = 1; offset < 32; offset *= 2) {
      auto up = gpu::ShuffleOp::create(b, inclusive, offset, 32,
                                       gpu::ShuffleMode::UP);
      Value from = arith::SelectOp::create(b, up.getValid(),
                                           up.getShuffleResult(), i32(0));
      inclusive = arith::AddIOp::create(b, inclusive, from);
    }
    ifThen(cmpi(arith::CmpIPredicate::eq, lane, index(31)),
           [&] { store(inclusive, scratch, warp); });
    barrier();
    Value before = i32(0), total = i32(0);
    for (int64_t w = 0; w < threads / 32; ++w) {
      Value warpTotal = load(scratch, index(w));
      before = arith::AddIOp::create(
          b, before,
          arith::SelectOp::create(b, ult(index(w), warp), warpTotal, i32(0)));
      total = arith::AddIOp::create(b, total, warpTotal);
    }
    barrier();
    Value exclusive = arith::SubIOp::create(
        b, arith::AddIOp::create(b, before, inclusive), v);
    return {exclusive, total};
  }

  /// Keys per thread up to which the sort keeps them in registers.
  static constexpr int64_t kRegisterSortMaxPerThread = 8;

  /// An i64 from lane `lane ^ offset` (two 32-bit shuffles; `offset` an
  /// i32 value).
  Value shuffleXor64(Value v, Value offset) {
    Type i32Type = b.getI32Type(), i64Type = b.getI64Type();
    auto shuffle = [&](Value x) {
      return gpu::ShuffleOp::create(b, x, offset, i32(32),
                                    gpu::ShuffleMode::XOR)
          .getShuffleResult();
    };
    Value low = shuffle(arith::TruncIOp::create(b, i32Type, v));
    Value high = shuffle(arith::TruncIOp::create(
        b, i32Type, arith::ShRUIOp::create(b, v, i64(32))));
    Value wideHigh = arith::ShLIOp::create(
        b, arith::ExtUIOp::create(b, i64Type, high), i64(32));
    return arith::OrIOp::create(b, wideHigh,
                                arith::ExtUIOp::create(b, i64Type, low));
  }

  /// bitonicSortDescending with the keys in registers: thread t holds keys
  /// P*t .. P*t + P - 1 (P = n / threads, at least 1); a step's partner is
  /// in the same thread (stride j < P), in lane ^ j/P of the same warp
  /// (shuffles, j < 32 P), or, for the few steps with a larger stride, read
  /// through shared memory between two barriers: of the 55 steps of a
  /// 1024-key sort on 256 threads, 6 touch shared memory instead of all of
  /// them with a barrier each. The keys are loop-carried values of the
  /// network's loops (not unrolled, so that the kernel stays small to
  /// compile).
  void bitonicSortInRegisters(Value keys, int64_t n, int64_t logN) {
    const int64_t per = std::max<int64_t>(1, n / threads);
    int64_t logPer = 0;
    while ((int64_t(1) << logPer) < per)
      ++logPer;
    const int64_t logShuffle = logPer + 5; // strides below 32 P
    const int64_t active = n / per;
    Value isActive = ult(tid, index(active));
    Value first = mul(select(isActive, tid, index(0)), index(per));
    barrier();
    SmallVector<Value> positions, loaded;
    // Threads past the active ones hold zeros and never touch the keys
    // (a dummy read would race with the owner's final store).
    for (int64_t e = 0; e < per; ++e) {
      positions.push_back(add(first, index(e)));
      loaded.push_back(ifElse(isActive, b.getI64Type(),
                              [&] { return load(keys, positions.back()); },
                              [&] { return i64(0); }));
    }
    auto bitClear = [&](int64_t e, Value bit) {
      return cmpi(arith::CmpIPredicate::eq,
                  arith::AndIOp::create(b, positions[e], bit), index(0));
    };
    // The new key of element e, given its partner's key: the lower of the
    // pair keeps the larger key in a descending block (bit k of i clear).
    auto merged = [&](int64_t e, Value mine, Value theirs, Value j, Value k) {
      Value keepLarger =
          cmpi(arith::CmpIPredicate::eq, bitClear(e, j), bitClear(e, k));
      return select(keepLarger, arith::MaxSIOp::create(b, mine, theirs),
                    arith::MinSIOp::create(b, mine, theirs));
    };
    auto shl = [&](Value logValue) {
      return arith::ShLIOp::create(b, index(1), logValue);
    };
    auto atLeastZero = [&](Value x) {
      return arith::MaxSIOp::create(b, x, index(0));
    };
    SmallVector<Value> sorted = loopCarry(
        index(1), index(logN + 1), index(1), loaded,
        [&](Value logK, ValueRange in) -> SmallVector<Value> {
          Value k = shl(logK);
          // Strides 2^(logK-1) .. 32 P: through shared memory.
          SmallVector<Value> v = loopCarry(
              index(0), atLeastZero(sub(logK, index(logShuffle))), index(1),
              in, [&](Value step, ValueRange cur) -> SmallVector<Value> {
                Value j = shl(sub(sub(logK, index(1)), step));
                for (int64_t e = 0; e < per; ++e)
                  ifThen(isActive,
                         [&] { store(cur[e], keys, positions[e]); });
                barrier();
                SmallVector<Value> next;
                for (int64_t e = 0; e < per; ++e) {
                  Value partner = arith::XOrIOp::create(b, positions[e], j);
                  partner = select(isActive, partner, index(0));
                  next.push_back(merged(e, cur[e], load(keys, partner), j, k));
                }
                barrier();
                return next;
              });
          // Strides below 32 P and at least P: across lanes.
          Value top = arith::MinSIOp::create(b, logK, index(logShuffle));
          v = loopCarry(
              index(0), atLeastZero(sub(top, index(logPer))), index(1), v,
              [&](Value step, ValueRange cur) -> SmallVector<Value> {
                Value logJ = sub(sub(top, index(1)), step);
                Value j = shl(logJ);
                Value lanes = arith::IndexCastOp::create(
                    b, b.getI32Type(), shl(sub(logJ, index(logPer))));
                SmallVector<Value> next;
                for (int64_t e = 0; e < per; ++e)
                  next.push_back(
                      merged(e, cur[e], shuffleXor64(cur[e], lanes), j, k));
                return next;
              });
          // Strides below P: inside the thread (only those below k).
          for (int64_t logJ = logPer - 1; logJ >= 0; --logJ) {
            int64_t stride = int64_t(1) << logJ;
            Value j = index(stride);
            Value applies = ult(index(logJ), logK);
            SmallVector<Value> next(v);
            for (int64_t e = 0; e < per; ++e) {
              if (e & stride)
                continue;
              next[e] = merged(e, v[e], v[e + stride], j, k);
              next[e + stride] = merged(e + stride, v[e + stride], v[e], j, k);
            }
            for (int64_t e = 0; e < per; ++e)
              v[e] = select(applies, next[e], v[e]);
          }
          return v;
        });
    for (int64_t e = 0; e < per; ++e)
      ifThen(isActive, [&] { store(sorted[e], keys, positions[e]); });
    barrier();
  }

  /// Sorts `n` (a power of two) i64 keys in shared memory in descending
  /// order: the bitonic network, one compare-exchange per thread and pair,
  /// a barrier per step. The network's log2(n)(log2(n)+1)/2 steps are
  /// loops, not unrolled, so that the kernel stays small to compile. Ends
  /// with a barrier.
  void bitonicSortDescending(Value keys, int64_t n) {
    int64_t logN = 0;
    while ((int64_t(1) << logN) < n)
      ++logN;
    if (logN == 0) {
      barrier();
      return;
    }
    if (n / threads <= kRegisterSortMaxPerThread) {
      bitonicSortInRegisters(keys, n, logN);
      return;
    }
    // for (logK = 1 .. logN) for (logJ = logK - 1 .. 0): k = 2^logK,
    // j = 2^logJ.
    loop(index(1), index(logN + 1), index(1), [&](Value logK) {
      Value k = arith::ShLIOp::create(b, index(1), logK);
      loop(index(0), logK, index(1), [&](Value step) {
        Value logJ = sub(sub(logK, index(1)), step);
        Value j = arith::ShLIOp::create(b, index(1), logJ);
        forThreads(index(n / 2), [&](Value t) {
          // The pair (i, i + j): i has bit j clear.
          Value high = arith::ShLIOp::create(
              b, arith::ShRUIOp::create(b, t, logJ), add(logJ, index(1)));
          Value low = arith::AndIOp::create(b, t, sub(j, index(1)));
          Value i = arith::OrIOp::create(b, high, low);
          Value partner = add(i, j);
          Value a = load(keys, i), c = load(keys, partner);
          // Blocks whose bit k is clear end up descending, the others
          // ascending; the last merge (k = n) is all descending.
          Value descending =
              cmpi(arith::CmpIPredicate::eq, arith::AndIOp::create(b, i, k),
                   index(0));
          Value less = cmpi(arith::CmpIPredicate::slt, a, c);
          Value greater = cmpi(arith::CmpIPredicate::sgt, a, c);
          Value swap = select(descending, less, greater);
          store(select(swap, c, a), keys, i);
          store(select(swap, a, c), keys, partner);
        });
        barrier();
      });
    });
  }

  /// The score's bits as an unsigned order: larger floats, larger keys.
  Value orderedBits(Value score) {
    Value bits = arith::BitcastOp::create(b, b.getI32Type(), score);
    Value sign = arith::ShRSIOp::create(b, bits, i32(31));
    Value flip = arith::OrIOp::create(b, sign, i32(int32_t(0x80000000u)));
    Value ordered = arith::XOrIOp::create(b, bits, flip);
    return arith::ExtUIOp::create(b, b.getI64Type(), ordered);
  }
  Value sortKey(int64_t cls, Value scoreBits, Value group) {
    Value key = i64((cls << kClassShift) + kIndexMask);
    key = arith::SubIOp::create(b, key, indexToI64(group));
    if (scoreBits)
      key = arith::OrIOp::create(
          b, key, arith::ShLIOp::create(b, scoreBits, i64(kIndexBits)));
    return key;
  }
  Value groupOfKey(Value key) {
    Value low = arith::AndIOp::create(b, key, i64(kIndexMask));
    Value group = arith::SubIOp::create(b, i64(kIndexMask), low);
    return arith::IndexCastOp::create(b, b.getIndexType(), group);
  }

  /// Shared i32 flags, one per group of the parent level, 1 where this
  /// row's parent list keeps it (the list's entries clamped into range).
  /// The caller puts a barrier before reading them.
  Value parentKeptFlags(Value parentGroups, Value parentCounts,
                        int64_t numParents) {
    Value flags = shared(numParents, b.getI32Type());
    forThreads(index(numParents),
               [&](Value j) { store(i32(0), flags, j); });
    barrier();
    Value count = clampCount(load(parentCounts, row), index(numParents));
    Value listBase = mul(row, index(numParents));
    forThreads(count, [&](Value t) {
      Value g = toIndex(load(parentGroups, add(listBase, t)));
      store(i32(1), flags, min(g, index(numParents - 1)));
    });
    return flags;
  }

  gpu::GPUFuncOp func;
  int64_t threads;
  Value tid, blockX, head, batch, gridX, heads, batchHead, row, lane, warp;
};

struct Signature {
  std::vector<KernelParam> params;
  gpu::GPUFuncOp func;
  Value arg(StringRef name, int64_t dim = -1) const {
    return const_cast<gpu::GPUFuncOp &>(func).getBody().front().getArgument(
        paramIndex(params, name, dim));
  }
};

Signature startKernel(OpBuilder &builder, gpu::GPUModuleOp module,
                      const std::string &name, std::vector<KernelParam> params,
                      int64_t threads) {
  Signature s{std::move(params), {}};
  s.func = createKernel(builder, module, name, s.params,
                        {int32_t(threads), 1, 1});
  return s;
}

Type halfType(OpBuilder &b, DType dtype) {
  return dtype == DType::BF16 ? Type(b.getBF16Type()) : Type(b.getF16Type());
}

void addStrided(std::vector<KernelParam> &params, MLIRContext *ctx,
                const std::string &name) {
  params.push_back(KernelParam::buffer(ctx, name));
  for (int64_t dim = 0; dim < 3; ++dim)
    params.push_back(KernelParam::stride(ctx, name, dim));
}

} // namespace

//===----------------------------------------------------------------------===//
// Reorder
//===----------------------------------------------------------------------===//

gpu::GPUFuncOp buildReorderKernel(OpBuilder &builder, gpu::GPUModuleOp module,
                                  const ReorderKernelParams &p) {
  MLIRContext *ctx = builder.getContext();
  std::vector<KernelParam> params;
  addStrided(params, ctx, "x");
  addStrided(params, ctx, "y");
  params.push_back(KernelParam::constant(ctx, "token_order", "token_order"));
  params.push_back(KernelParam::scalar("seq_len", builder.getI32Type()));
  const int64_t threads = 128;
  Signature sig = startKernel(builder, module, p.name, params, threads);
  ImplicitLocOpBuilder b(sig.func.getLoc(), builder);
  b.setInsertionPointToStart(&sig.func.getBody().front());
  CtaBuilder m(b, sig.func, threads);

  Type half = halfType(b, p.dtype);
  auto vecType = VectorType::get({8}, half);
  Value seqLen = m.toIndex(sig.arg("seq_len"));
  Value order = globalView(b, sig.arg("token_order"), b.getI32Type());
  auto tensor = [&](StringRef name) {
    Value base = m.add(m.mul(m.batch, m.toIndex(sig.arg(name, 0))),
                       m.mul(m.head, m.toIndex(sig.arg(name, 1))));
    return std::tuple(globalView(b, sig.arg(name), half), base,
                      m.toIndex(sig.arg(name, 2)));
  };
  auto [x, xBase, xStride] = tensor("x");
  auto [y, yBase, yStride] = tensor("y");

  int64_t chunks = p.headDim / 8, rowsPerPass = threads / chunks;
  Value column = m.mul(m.rem(m.tid, m.index(chunks)), m.index(8));
  Value firstRow = m.add(m.mul(m.blockX, m.index(ReorderKernelParams::kRows)),
                         m.div(m.tid, m.index(chunks)));
  for (int64_t pass = 0; pass < ReorderKernelParams::kRows / rowsPerPass;
       ++pass) {
    Value r = m.add(firstRow, m.index(pass * rowsPerPass));
    m.ifThen(m.ult(r, seqLen), [&] {
      // Table entries are the runtime's; clamp so that a bad one cannot
      // address outside the tensors.
      Value permuted =
          m.min(m.toIndex(m.load(order, r)), m.sub(seqLen, m.index(1)));
      Value from = p.inverse ? r : permuted;
      Value to = p.inverse ? permuted : r;
      Value chunk = vector::LoadOp::create(
          b, vecType, x,
          ValueRange{m.add(m.add(xBase, m.mul(from, xStride)), column)},
          /*nontemporal=*/false, llvm::MaybeAlign(16));
      vector::StoreOp::create(
          b, chunk, y,
          ValueRange{m.add(m.add(yBase, m.mul(to, yStride)), column)},
          /*nontemporal=*/false, llvm::MaybeAlign(16));
    });
  }
  gpu::ReturnOp::create(b);
  return sig.func;
}

//===----------------------------------------------------------------------===//
// Pool
//===----------------------------------------------------------------------===//

gpu::GPUFuncOp buildPoolKernel(OpBuilder &builder, gpu::GPUModuleOp module,
                               const PoolKernelParams &p) {
  MLIRContext *ctx = builder.getContext();
  std::vector<KernelParam> params;
  addStrided(params, ctx, "x");
  params.push_back(KernelParam::buffer(ctx, "means"));
  if (p.tokenOrder)
    params.push_back(KernelParam::constant(ctx, "token_order", "token_order"));
  params.push_back(KernelParam::scalar("seq_len", builder.getI32Type()));
  Signature sig = startKernel(builder, module, p.name, params, p.headDim);
  ImplicitLocOpBuilder b(sig.func.getLoc(), builder);
  b.setInsertionPointToStart(&sig.func.getBody().front());
  CtaBuilder m(b, sig.func, p.headDim);
  Type half = halfType(b, p.dtype), f32 = b.getF32Type();

  // Eight rows at a time: thread (sub, chunk) loads 16 bytes (8 channels)
  // of rows sub, sub + 8, ... of the tile (all issued before they are
  // summed: the loop is unrolled), then the eight partial sums of each
  // channel meet in shared memory.
  const int64_t chunks = p.headDim / 8, parallel = p.headDim / chunks;
  Value seqLen = m.toIndex(sig.arg("seq_len"));
  Value x = globalView(b, sig.arg("x"), half);
  Value chunk = m.rem(m.tid, m.index(chunks));
  Value sub = m.div(m.tid, m.index(chunks));
  Value base = m.add(m.add(m.mul(m.batch, m.toIndex(sig.arg("x", 0))),
                           m.mul(m.head, m.toIndex(sig.arg("x", 1)))),
                     m.mul(chunk, m.index(8)));
  Value stride = m.toIndex(sig.arg("x", 2));
  Value first = m.mul(m.blockX, m.index(p.tile));
  Value last = m.min(m.add(first, m.index(p.tile)), seqLen);
  Value order = p.tokenOrder
                    ? globalView(b, sig.arg("token_order"), b.getI32Type())
                    : Value();
  Value lastRow = m.sub(seqLen, m.index(1));
  auto vec8 = VectorType::get({8}, half);
  auto vec8f = VectorType::get({8}, f32);
  Value sum = arith::ConstantOp::create(
      b, DenseElementsAttr::get(vec8f, b.getF32FloatAttr(0)));
  SmallVector<std::pair<Value, Value>> rows; // (valid, row)
  for (int64_t j = 0; j < ceilDiv(p.tile, parallel); ++j) {
    Value t = m.add(m.add(first, sub), m.index(j * parallel));
    Value valid = m.andi(m.ult(t, last),
                         m.ult(m.add(sub, m.index(j * parallel)),
                               m.index(p.tile)));
    Value safe = m.select(valid, t, first);
    // Position t of the reordered sequence (the table clamped, as in the
    // reorder kernel).
    Value r = order ? m.min(m.toIndex(m.load(order, safe)), lastRow) : safe;
    rows.push_back({valid, r});
  }
  for (auto [valid, r] : rows) {
    Value v = vector::LoadOp::create(b, vec8, x,
                                     ValueRange{m.add(base, m.mul(r, stride))},
                                     /*nontemporal=*/false,
                                     llvm::MaybeAlign(16));
    Value widened = arith::ExtFOp::create(b, vec8f, v);
    sum = m.select(valid, arith::AddFOp::create(b, sum, widened), sum);
  }
  Value partial = m.shared(parallel * p.headDim, f32);
  vector::StoreOp::create(
      b, sum, partial,
      ValueRange{m.add(m.mul(sub, m.index(p.headDim)),
                       m.mul(chunk, m.index(8)))});
  m.barrier();
  Value total = m.f32(0);
  for (int64_t i = 0; i < parallel; ++i)
    total = m.addf(total,
                   m.load(partial, m.add(m.index(i * p.headDim), m.tid)));
  Value mean = m.divf(total, m.indexToF32(m.sub(last, first)));
  Value means = globalView(b, sig.arg("means"), f32);
  m.store(mean, means, m.add(m.mul(m.row, m.index(p.headDim)), m.tid));
  gpu::ReturnOp::create(b);
  return sig.func;
}

//===----------------------------------------------------------------------===//
// Score
//===----------------------------------------------------------------------===//

std::string scoreKernelProblem(const ScoreKernelParams &p) {
  if (p.aggregate == ScoreAggregate::SoftmaxSum) {
    int64_t tiles = p.blockQ / p.poolQ;
    if (tiles > 16)
      return "softmax-sum scoring with " + text(tiles) +
             " query tiles per block (scoring.pool.q " + text(p.poolQ) +
             ", block.q " + text(p.blockQ) + "; at most 16)";
  }
  if (p.parentGroup && ceilDiv(p.seqLen, p.parentGroup) > 8192)
    return "a parent level of " + text(ceilDiv(p.seqLen, p.parentGroup)) +
           " groups (at most 8192)";
  return "";
}

gpu::GPUFuncOp buildScoreKernel(OpBuilder &builder, gpu::GPUModuleOp module,
                                const ScoreKernelParams &p) {
  MLIRContext *ctx = builder.getContext();
  const bool softmaxSum = p.aggregate == ScoreAggregate::SoftmaxSum;
  const bool hasParent = p.parentGroup > 0;
  std::vector<KernelParam> params;
  if (p.fromFine)
    params.push_back(KernelParam::scratch(ctx, "fine_scores"));
  else
    params = {KernelParam::buffer(ctx, "query_means"),
              KernelParam::buffer(ctx, "key_means")};
  params.push_back(KernelParam::buffer(ctx, "scores"));
  if (hasParent)
    for (const char *name : {"parent_groups", "parent_counts", "parent_scores"})
      params.push_back(KernelParam::buffer(ctx, name));
  const int64_t threads = ScoreKernelParams::kThreads;
  Signature sig = startKernel(builder, module, p.name, params, threads);
  ImplicitLocOpBuilder b(sig.func.getLoc(), builder);
  b.setInsertionPointToStart(&sig.func.getBody().front());
  CtaBuilder m(b, sig.func, threads);
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  const int64_t d = p.headDim, s = p.seqLen;
  const int64_t numGroups = ceilDiv(s, p.group);
  // Query rows of the block (pooled tiles, or the block mean) and key rows
  // (pooled tiles, or group means).
  const int64_t queryRows = softmaxSum ? p.blockQ / p.poolQ : 1;
  const int64_t numQueryRows = softmaxSum ? ceilDiv(s, p.poolQ)
                                          : ceilDiv(s, p.blockQ);
  const int64_t numKeyRows = softmaxSum ? ceilDiv(s, p.poolK) : numGroups;
  const int64_t keyRowsPerGroup = softmaxSum ? p.group / p.poolK : 1;

  Value scores = globalView(b, sig.arg("scores"), f32);
  Value firstQueryRow = m.mul(m.blockX, m.index(queryRows));
  Value queryMeans, keyMeans, scratch, qv;
  if (!p.fromFine) {
    queryMeans = globalView(b, sig.arg("query_means"), f32);
    keyMeans = globalView(b, sig.arg("key_means"), f32);
    scratch = m.shared(32, f32);
    // The block's query rows, pre-scaled (base 2 for softmax-sum), zero
    // past the end of the sequence.
    qv = m.shared(queryRows * d, f32);
    double qScale = softmaxSum ? p.scale * kLog2e : p.scale;
    Value queryBase = m.mul(m.batchHead, m.index(numQueryRows));
    m.forThreads(m.index(queryRows * d), [&](Value idx) {
      Value a = m.div(idx, m.index(d)), e = m.rem(idx, m.index(d));
      Value qRow = m.add(firstQueryRow, a);
      Value valid = m.ult(qRow, m.index(numQueryRows));
      Value safeRow = m.select(valid, qRow, m.index(0));
      Value v = m.load(queryMeans,
                       m.add(m.mul(m.add(queryBase, safeRow), m.index(d)), e));
      m.store(m.select(valid, m.mulf(v, m.f32(qScale)), m.f32(0)), qv, idx);
    });
  }

  // Which groups are candidates: children of the parent's kept groups.
  const int64_t ratio = hasParent ? p.parentGroup / p.group : 1;
  const int64_t numParents = hasParent ? ceilDiv(s, p.parentGroup) : 0;
  Value parentKept;
  if (hasParent)
    parentKept = m.parentKeptFlags(
        globalView(b, sig.arg("parent_groups"), i32),
        globalView(b, sig.arg("parent_counts"), i32), numParents);
  m.barrier();

  // The dot products of key row c with every query row, as f32 values.
  Value keyBase = m.mul(m.batchHead, m.index(numKeyRows));
  auto dots = [&](Value c) {
    SmallVector<Value> init(queryRows, m.f32(0));
    Value kRow = m.mul(m.add(keyBase, c), m.index(d));
    auto vec4 = VectorType::get({4}, f32);
    return m.loopCarry(
        m.index(0), m.index(d), m.index(4), init,
        [&](Value e, ValueRange acc) -> SmallVector<Value> {
          Value k = vector::LoadOp::create(b, vec4, keyMeans,
                                           ValueRange{m.add(kRow, e)});
          SmallVector<Value> next;
          for (int64_t a = 0; a < queryRows; ++a) {
            Value q = vector::LoadOp::create(
                b, vec4, qv, ValueRange{m.add(m.index(a * d), e)});
            Value prod = arith::MulFOp::create(b, q, k);
            next.push_back(m.addf(
                acc[a], vector::ReductionOp::create(
                            b, vector::CombiningKind::ADD, prod)));
          }
          return next;
        });
  };

  // softmax-sum: each query tile's max and normalizer over ALL key tiles
  // (an online softmax per thread, merged across the block).
  SmallVector<Value> rowMax, inverseSum;
  if (softmaxSum && !p.fromFine) {
    SmallVector<Value> init;
    for (int64_t a = 0; a < queryRows; ++a) {
      init.push_back(m.f32(-INFINITY));
      init.push_back(m.f32(0));
    }
    SmallVector<Value> state = m.loopCarry(
        m.tid, m.index(numKeyRows), m.index(threads), init,
        [&](Value c, ValueRange st) -> SmallVector<Value> {
          SmallVector<Value> l = dots(c), next;
          for (int64_t a = 0; a < queryRows; ++a) {
            Value mOld = st[2 * a], sOld = st[2 * a + 1];
            Value mNew = m.maxf(mOld, l[a]);
            next.push_back(mNew);
            next.push_back(m.addf(m.mulf(sOld, m.exp2(m.subf(mOld, mNew))),
                                  m.exp2(m.subf(l[a], mNew))));
          }
          return next;
        });
    // Merge (max, sum) pairs: first the maxima, then the rescaled sums.
    for (int64_t a = 0; a < queryRows; ++a) {
      Value mine = state[2 * a];
      Value total = m.blockReduce(mine, /*isMax=*/true, scratch);
      // A thread that saw no key tile has max -inf and sum 0.
      Value seen = m.cmpf(arith::CmpFPredicate::OGT, state[2 * a + 1],
                          m.f32(0));
      Value scaled = m.select(
          seen, m.mulf(state[2 * a + 1], m.exp2(m.subf(mine, total))),
          m.f32(0));
      Value sum = m.blockReduce(scaled, /*isMax=*/false, scratch);
      Value validRow = m.ult(m.add(firstQueryRow, m.index(a)),
                             m.index(numQueryRows));
      rowMax.push_back(total);
      inverseSum.push_back(
          m.select(validRow, m.divf(m.f32(1), sum), m.f32(0)));
    }
  }

  // Each thread scores whole groups.
  Value parentScores =
      hasParent ? globalView(b, sig.arg("parent_scores"), f32) : Value();
  m.forThreads(m.index(numGroups), [&](Value j) {
    auto real = [&]() -> Value {
      if (p.fromFine) {
        // The sum of this group's children at the finest level.
        const int64_t fineGroups = ceilDiv(s, p.fineGroup);
        const int64_t children = p.group / p.fineGroup;
        Value fine = globalView(b, sig.arg("fine_scores"), f32);
        Value first = m.mul(j, m.index(children));
        Value last = m.min(m.add(first, m.index(children)),
                           m.index(fineGroups));
        Value base = m.mul(m.row, m.index(fineGroups));
        return m.loopCarry(first, last, m.index(1), {m.f32(0)},
                           [&](Value c, ValueRange acc) -> SmallVector<Value> {
                             return {m.addf(acc[0],
                                            m.load(fine, m.add(base, c)))};
                           })[0];
      }
      if (!softmaxSum) {
        Value dot = dots(j)[0];
        Value n = m.min(m.index(p.group),
                        m.sub(m.index(s), m.mul(j, m.index(p.group))));
        return m.addf(dot, m.ln(m.indexToF32(n)));
      }
      Value first = m.mul(j, m.index(keyRowsPerGroup));
      Value last =
          m.min(m.add(first, m.index(keyRowsPerGroup)), m.index(numKeyRows));
      return m.loopCarry(
          first, last, m.index(1), {m.f32(0)},
          [&](Value c, ValueRange acc) -> SmallVector<Value> {
            SmallVector<Value> l = dots(c);
            Value sum = acc[0];
            for (int64_t a = 0; a < queryRows; ++a)
              sum = m.addf(sum, m.mulf(m.exp2(m.subf(l[a], rowMax[a])),
                                       inverseSum[a]));
            return {sum};
          })[0];
    };
    Value value;
    if (!hasParent) {
      value = real();
    } else {
      Value parent = m.div(j, m.index(ratio));
      Value kept = m.cmpi(arith::CmpIPredicate::ne, m.load(parentKept, parent),
                          m.i32(0));
      value = m.ifElse(kept, f32, real, [&]() -> Value {
        Value ps = m.load(parentScores,
                          m.add(m.mul(m.row, m.index(numParents)), parent));
        return softmaxSum ? m.divf(ps, m.f32(double(ratio)))
                          : m.subf(ps, m.f32(std::log(double(ratio))));
      });
    }
    m.store(value, scores, m.add(m.mul(m.row, m.index(numGroups)), j));
  });
  gpu::ReturnOp::create(b);
  return sig.func;
}

//===----------------------------------------------------------------------===//
// Score on tensor cores (softmax-sum, first level)
//===----------------------------------------------------------------------===//

namespace {
constexpr int64_t kScoreChunk = 32;             // key tiles per smem stage
constexpr int64_t kScoreAccBytes = 32 * 1024;   // per-CTA score sums
int64_t scoreQueryTiles(const ScoreKernelParams &p) {
  return p.blockQ / p.poolQ;
}
int64_t scoreAccGroups(const ScoreKernelParams &p) {
  return ceilDiv(p.seqLen, p.fineGroup ? p.fineGroup : p.group);
}
} // namespace

int64_t scoreMmaWarps(const ScoreKernelParams &p) {
  int64_t tiles = scoreQueryTiles(p);
  if (p.aggregate != ScoreAggregate::SoftmaxSum || p.parentGroup ||
      p.fromFine || 16 % tiles != 0 || p.headDim % 16 != 0)
    return 0;
  int64_t perWarp = (16 / tiles) * scoreAccGroups(p) * 4;
  return std::min<int64_t>(4, kScoreAccBytes / perWarp);
}

int64_t scoreMmaBlocksPerCta(const ScoreKernelParams &p) {
  return scoreMmaWarps(p) * (16 / scoreQueryTiles(p));
}

gpu::GPUFuncOp buildScoreMmaKernel(OpBuilder &builder, gpu::GPUModuleOp module,
                                   const ScoreKernelParams &p) {
  MLIRContext *ctx = builder.getContext();
  const int64_t warps = scoreMmaWarps(p), threads = 32 * warps;
  const int64_t d = p.headDim, s = p.seqLen, qt = scoreQueryTiles(p);
  const int64_t fineGroup = p.fineGroup ? p.fineGroup : p.group;
  const int64_t fineGroups = ceilDiv(s, fineGroup);
  const int64_t levelGroups = ceilDiv(s, p.group);
  const int64_t tilesPerFine = fineGroup / p.poolK;
  const int64_t childrenPerGroup = p.group / fineGroup;
  const int64_t numQueryTiles = ceilDiv(s, p.poolQ);
  const int64_t numKeyTiles = ceilDiv(s, p.poolK);
  const int64_t numBlocks = ceilDiv(s, p.blockQ);
  const int64_t blocksPerWarp = 16 / qt, blocksPerCta = warps * blocksPerWarp;
  const int64_t pitch = d + 8; // halves: conflict-free fragment loads
  const bool writeFine = p.fineGroup && p.fineGroup != p.group;

  std::vector<KernelParam> params = {KernelParam::buffer(ctx, "query_means"),
                                     KernelParam::buffer(ctx, "key_means"),
                                     KernelParam::buffer(ctx, "scores")};
  if (writeFine)
    params.push_back(KernelParam::scratch(ctx, "fine_scores"));
  Signature sig = startKernel(builder, module, p.name, params, threads);
  // Five CTAs per SM with two levels (measured at wan2.1-480p: 41 KB of
  // shared memory each; the kernel is latency bound, and the driver's
  // linker otherwise took 112 registers, four CTAs). Not with one level:
  // at wan2.1-720p's shape the kernel needs 134 registers, and the cap
  // made ptxas spill.
  if (writeFine)
    sig.func->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                      builder.getI32IntegerAttr(5));
  ImplicitLocOpBuilder b(sig.func.getLoc(), builder);
  b.setInsertionPointToStart(&sig.func.getBody().front());
  CtaBuilder m(b, sig.func, threads);
  Type f32 = b.getF32Type(), f16 = b.getF16Type();
  auto f32x2 = VectorType::get({2}, f32), f16x2 = VectorType::get({2}, f16);
  auto f32x4 = VectorType::get({4}, f32), f16x4 = VectorType::get({4}, f16);

  Value queryMeans = globalView(b, sig.arg("query_means"), f32);
  Value keyMeans = globalView(b, sig.arg("key_means"), f32);
  Value keys = m.shared(kScoreChunk * pitch, f16);
  Value acc = m.shared(blocksPerCta * fineGroups, f32);
  m.forThreads(m.index(blocksPerCta * fineGroups),
               [&](Value i) { m.store(m.f32(0), acc, i); });

  Value group = m.div(m.lane, m.index(4)), quad = m.rem(m.lane, m.index(4));
  Value pairCol = m.mul(quad, m.index(2));
  // This warp's 16 query tiles.
  Value firstTile = m.mul(m.add(m.mul(m.blockX, m.index(warps)), m.warp),
                          m.index(16));
  Value rows[2] = {m.add(firstTile, group),
                   m.add(firstTile, m.add(group, m.index(8)))};
  Value rowValid[2] = {m.ult(rows[0], m.index(numQueryTiles)),
                       m.ult(rows[1], m.index(numQueryTiles))};
  Value queryBase = m.mul(m.batchHead, m.index(numQueryTiles));

  // A fragments, pre-scaled into base 2, rows past the end zero.
  double qScale = p.scale * kLog2e;
  auto zero2 = arith::ConstantOp::create(
      b, DenseElementsAttr::get(f32x2, b.getF32FloatAttr(0)));
  auto qPair = [&](int r, Value col) {
    Value safe = m.select(rowValid[r], rows[r], m.index(0));
    Value at = m.add(m.mul(m.add(queryBase, safe), m.index(d)), col);
    Value v = vector::LoadOp::create(b, f32x2, queryMeans, ValueRange{at});
    v = arith::MulFOp::create(
        b, v,
        arith::ConstantOp::create(
            b, DenseElementsAttr::get(f32x2, b.getF32FloatAttr(qScale))));
    v = m.select(rowValid[r], v, zero2);
    return arith::TruncFOp::create(b, f16x2, v).getResult();
  };
  SmallVector<SmallVector<Value>> aFrag;
  for (int64_t kk = 0; kk < d / 16; ++kk) {
    Value col = m.add(m.index(kk * 16), pairCol);
    Value col8 = m.add(col, m.index(8));
    aFrag.push_back({qPair(0, col), qPair(1, col), qPair(0, col8),
                     qPair(1, col8)});
  }

  // Key tiles [chunk, chunk + 32) into shared memory as f16 (zeros past the
  // end), every thread four values at a time: loaded into registers one
  // chunk ahead (their latency hidden behind a chunk's products), stored
  // between two barriers.
  Value keyBase = m.mul(m.batchHead, m.index(numKeyTiles));
  const int64_t quadsPerThread = kScoreChunk * d / 4 / threads;
  auto quadAt = [&](int64_t it) {
    Value i = m.add(m.tid, m.index(it * threads));
    return std::pair(m.div(i, m.index(d / 4)),
                     m.mul(m.rem(i, m.index(d / 4)), m.index(4)));
  };
  auto loadKeys = [&](Value chunk) {
    SmallVector<Value> regs;
    for (int64_t it = 0; it < quadsPerThread; ++it) {
      auto [r, c] = quadAt(it);
      Value key = m.add(chunk, r);
      Value valid = m.ult(key, m.index(numKeyTiles));
      Value safe = m.select(valid, key, m.index(0));
      Value v = vector::LoadOp::create(
          b, f32x4, keyMeans,
          ValueRange{m.add(m.mul(m.add(keyBase, safe), m.index(d)), c)},
          /*nontemporal=*/false, llvm::MaybeAlign(16));
      regs.push_back(m.select(
          valid, v,
          arith::ConstantOp::create(
              b, DenseElementsAttr::get(f32x4, b.getF32FloatAttr(0)))));
    }
    return regs;
  };
  auto stageKeys = [&](ValueRange regs) {
    m.barrier();
    for (int64_t it = 0; it < quadsPerThread; ++it) {
      auto [r, c] = quadAt(it);
      vector::StoreOp::create(b, arith::TruncFOp::create(b, f16x4, regs[it]),
                              keys,
                              ValueRange{m.add(m.mul(r, m.index(pitch)), c)});
    }
    m.barrier();
  };
  // Logits of this warp's 16 rows against 8 staged keys [n8, n8 + 8):
  // (row g, cols 2q, 2q+1), (row g + 8, same cols). The B fragments of two
  // k16 steps come from one ldmatrix.x4 (keys are the rows of the staged
  // tile, head_dim its columns: lane l addresses key l % 8, columns
  // 8 * (l / 8) on from the step's first).
  Value bLane = m.add(m.mul(m.rem(m.lane, m.index(8)), m.index(pitch)),
                      m.mul(m.div(m.lane, m.index(8)), m.index(8)));
  auto logits = [&](int64_t n8) {
    SmallVector<Value> c(4, m.f32(0));
    SmallVector<Value> bFrags;
    for (int64_t kk = 0; kk < d / 16; kk += 2) {
      for (Value reg :
           m.ldmatrix(keys, m.add(bLane, m.index(n8 * pitch + kk * 16)), f16,
                      /*transpose=*/false, /*tiles=*/4))
        bFrags.push_back(reg);
    }
    for (int64_t kk = 0; kk < d / 16; ++kk) {
      Value b0 = bFrags[2 * kk], b1 = bFrags[2 * kk + 1];
      auto resultType =
          LLVM::LLVMStructType::getLiteral(ctx, {f32, f32, f32, f32});
      Value result = NVVM::MmaOp::create(
          b, resultType, aFrag[kk], ValueRange{b0, b1}, c,
          ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
          std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::f16,
                                        NVVM::MMATypes::f16},
          std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                         NVVM::MMALayout::col});
      for (int64_t i = 0; i < 4; ++i)
        c[i] = LLVM::ExtractValueOp::create(b, result, i);
    }
    return c;
  };
  auto keyCol = [&](Value chunk, int64_t n8, int64_t half) {
    return m.add(m.add(chunk, m.index(n8)), m.add(pairCol, m.index(half)));
  };
  Value negInf = m.f32(-INFINITY);

  // Pass 1: each row's max and sum of 2^logit over all key tiles: the
  // chunk's logits first, then one rescale per row and chunk (one
  // exponential per logit, not two).
  SmallVector<Value> init1 = {negInf, m.f32(0), negInf, m.f32(0)};
  for (Value v : loadKeys(m.index(0)))
    init1.push_back(v);
  SmallVector<Value> st = m.loopCarry(
      m.index(0), m.index(numKeyTiles), m.index(kScoreChunk), init1,
      [&](Value chunk, ValueRange in) -> SmallVector<Value> {
        stageKeys(in.drop_front(4));
        SmallVector<Value> ahead =
            loadKeys(m.add(chunk, m.index(kScoreChunk)));
        SmallVector<Value> cur(in.begin(), in.begin() + 4);
        SmallVector<Value> rowLogits[2];
        for (int64_t n8 = 0; n8 < kScoreChunk; n8 += 8) {
          SmallVector<Value> c = logits(n8);
          for (int64_t i = 0; i < 4; ++i) {
            Value valid = m.ult(keyCol(chunk, n8, i % 2),
                                m.index(numKeyTiles));
            rowLogits[i / 2].push_back(m.select(valid, c[i], negInf));
          }
        }
        for (int r = 0; r < 2; ++r) {
          Value mNew = cur[2 * r];
          for (Value l : rowLogits[r])
            mNew = m.maxf(mNew, l);
          // 2^(-inf - -inf) is NaN: a row with no valid key yet stays 0.
          Value empty = m.cmpf(arith::CmpFPredicate::OEQ, mNew, negInf);
          Value safeMax = m.select(empty, m.f32(0), mNew);
          Value sum = m.mulf(cur[2 * r + 1], m.exp2(m.subf(cur[2 * r], safeMax)));
          for (Value l : rowLogits[r])
            sum = m.addf(sum, m.exp2(m.subf(l, safeMax)));
          cur[2 * r] = mNew;
          cur[2 * r + 1] = sum;
        }
        cur.append(ahead.begin(), ahead.end());
        return cur;
      });
  // Merge over the quad sharing each row.
  Value rowMax[2], rowInverse[2];
  for (int r = 0; r < 2; ++r) {
    Value mx = st[2 * r], sum = st[2 * r + 1];
    for (int32_t offset : {1, 2}) {
      Value mo = m.shuffleXor(mx, offset), so = m.shuffleXor(sum, offset);
      Value mNew = m.maxf(mx, mo);
      auto rescale = [&](Value mOld, Value sOld) {
        return m.select(m.cmpf(arith::CmpFPredicate::OEQ, mOld, negInf),
                        m.f32(0), m.mulf(sOld, m.exp2(m.subf(mOld, mNew))));
      };
      sum = m.addf(rescale(mx, sum), rescale(mo, so));
      mx = mNew;
    }
    rowMax[r] = mx;
    rowInverse[r] = m.select(rowValid[r], m.divf(m.f32(1), sum), m.f32(0));
  }

  // Pass 2: probabilities summed over each query block's rows (shuffles
  // across the lanes holding them) and added per fine group in shared
  // memory.
  m.loopCarry(m.index(0), m.index(numKeyTiles), m.index(kScoreChunk),
              loadKeys(m.index(0)),
              [&](Value chunk, ValueRange in) -> SmallVector<Value> {
    stageKeys(in);
    SmallVector<Value> ahead = loadKeys(m.add(chunk, m.index(kScoreChunk)));
    for (int64_t n8 = 0; n8 < kScoreChunk; n8 += 8) {
      SmallVector<Value> c = logits(n8);
      for (int64_t half = 0; half < 2; ++half) {
        Value col = keyCol(chunk, n8, half);
        Value valid = m.ult(col, m.index(numKeyTiles));
        Value v[2];
        for (int r = 0; r < 2; ++r)
          v[r] = m.mulf(m.exp2(m.subf(c[2 * r + half], rowMax[r])),
                        rowInverse[r]);
        // Sum over the qt rows of a block: lane bits 2.. hold the row.
        SmallVector<Value> parts = {v[0], v[1]};
        if (qt == 16)
          parts = {m.addf(v[0], v[1])};
        int64_t span = std::min<int64_t>(qt, 8);
        for (int64_t bit = 1; bit < span; bit *= 2)
          for (Value &part : parts)
            part = m.addf(part, m.shuffleXor(part, int32_t(4 * bit)));
        Value lead = m.cmpi(arith::CmpIPredicate::eq,
                            m.rem(group, m.index(span)), m.index(0));
        Value fine = m.div(col, m.index(tilesPerFine));
        m.ifThen(m.andi(lead, valid), [&] {
          for (size_t r = 0; r < parts.size(); ++r) {
            Value localRow = m.add(group, m.index(int64_t(r) * 8));
            Value local = m.add(m.mul(m.warp, m.index(blocksPerWarp)),
                                m.div(localRow, m.index(qt)));
            memref::AtomicRMWOp::create(
                b, arith::AtomicRMWKind::addf, parts[r], acc,
                ValueRange{m.add(m.mul(local, m.index(fineGroups)), fine)});
          }
        });
      }
    }
    return ahead;
  });
  m.barrier();

  // Out: this level's scores (sums of fine groups), and the fine ones.
  Value scores = globalView(b, sig.arg("scores"), f32);
  Value fineOut =
      writeFine ? globalView(b, sig.arg("fine_scores"), f32) : Value();
  Value firstBlock = m.mul(m.blockX, m.index(blocksPerCta));
  Value rowBase = m.mul(m.batchHead, m.index(numBlocks));
  m.forThreads(m.index(blocksPerCta * levelGroups), [&](Value i) {
    Value local = m.div(i, m.index(levelGroups));
    Value j = m.rem(i, m.index(levelGroups));
    Value blk = m.add(firstBlock, local);
    m.ifThen(m.ult(blk, m.index(numBlocks)), [&] {
      Value first = m.mul(j, m.index(childrenPerGroup));
      Value last =
          m.min(m.add(first, m.index(childrenPerGroup)), m.index(fineGroups));
      Value accBase = m.mul(local, m.index(fineGroups));
      Value sum = m.loopCarry(
          first, last, m.index(1), {m.f32(0)},
          [&](Value f, ValueRange a) -> SmallVector<Value> {
            return {m.addf(a[0], m.load(acc, m.add(accBase, f)))};
          })[0];
      m.store(sum, scores,
              m.add(m.mul(m.add(rowBase, blk), m.index(levelGroups)), j));
    });
  });
  if (writeFine)
    m.forThreads(m.index(blocksPerCta * fineGroups), [&](Value i) {
      Value local = m.div(i, m.index(fineGroups));
      Value f = m.rem(i, m.index(fineGroups));
      Value blk = m.add(firstBlock, local);
      m.ifThen(m.ult(blk, m.index(numBlocks)), [&] {
        m.store(m.load(acc, i), fineOut,
                m.add(m.mul(m.add(rowBase, blk), m.index(fineGroups)), f));
      });
    });
  gpu::ReturnOp::create(b);
  return sig.func;
}

//===----------------------------------------------------------------------===//
// Select
//===----------------------------------------------------------------------===//

std::string selectKernelProblem(const SelectKernelParams &p) {
  int64_t groups = ceilDiv(p.problem.seqLen(), p.group);
  if (groups > SelectKernelParams::kMaxGroups)
    return text(groups) + " key groups of " + text(p.group) +
           " tokens per row (the GPU selection sorts at most " +
           text(SelectKernelParams::kMaxGroups) + " per row)";
  return "";
}

namespace {

/// The token range of the text, [begin, end), in (reordered) positions:
/// text keeps its place.
std::pair<int64_t, int64_t> textRange(const ProblemParams &problem) {
  int64_t s = problem.seqLen(), e = problem.textTokens;
  if (e == 0)
    return {0, 0};
  return problem.textPosition == TextPosition::First ? std::pair(int64_t(0), e)
                                                     : std::pair(s - e, s);
}

/// Whether the range [first, first + size) ∩ [0, s) meets [begin, end).
Value overlaps(CtaBuilder &m, Value first, int64_t size, int64_t s,
               int64_t begin, int64_t end) {
  Value last = m.min(m.add(first, m.index(size)), m.index(s));
  return m.andi(m.ult(first, m.index(end)), m.ult(m.index(begin), last));
}

} // namespace

gpu::GPUFuncOp buildSelectKernel(OpBuilder &builder, gpu::GPUModuleOp module,
                                 const SelectKernelParams &p) {
  MLIRContext *ctx = builder.getContext();
  const bool hasParent = p.parentGroup > 0;
  bool keepText = false, keepDiagonal = false, keepFirstFrame = false;
  for (KeepGroup keep : p.selection.keep) {
    keepText |= keep == KeepGroup::Text;
    keepDiagonal |= keep == KeepGroup::Diagonal;
    keepFirstFrame |= keep == KeepGroup::FirstFrame;
  }
  const int64_t s = p.problem.seqLen();
  auto [textBegin, textEnd] = textRange(p.problem);
  keepText &= textEnd > textBegin;

  std::vector<KernelParam> params = {KernelParam::buffer(ctx, "scores")};
  if (hasParent) {
    params.push_back(KernelParam::buffer(ctx, "parent_groups"));
    params.push_back(KernelParam::buffer(ctx, "parent_counts"));
  }
  if (keepFirstFrame)
    params.push_back(KernelParam::constant(ctx, "frames", "frames"));
  using Density = SelectKernelParams::Density;
  bool topk = p.selection.rule == SelectionRule::TopK;
  if (topk && p.density == Density::PerHead)
    params.push_back(KernelParam::buffer(ctx, "head_density"));
  if (p.curve) {
    params.push_back(KernelParam::scratch(ctx, "curve"));
  } else {
    for (const char *name : {"groups", "counts", "recall"})
      params.push_back(KernelParam::buffer(ctx, name));
  }
  if (topk && !p.curve && p.density == Density::Step)
    params.push_back(KernelParam::scalar("density", builder.getF64Type()));
  const int64_t threads = SelectKernelParams::kThreads;
  Signature sig = startKernel(builder, module, p.name, params, threads);
  ImplicitLocOpBuilder b(sig.func.getLoc(), builder);
  b.setInsertionPointToStart(&sig.func.getBody().front());
  CtaBuilder m(b, sig.func, threads);
  Type f32 = b.getF32Type(), i32 = b.getI32Type(), i64 = b.getI64Type();
  const int64_t numGroups = ceilDiv(s, p.group);
  const int64_t padded = nextPowerOfTwo(numGroups);
  const bool softmaxSum = p.aggregate == ScoreAggregate::SoftmaxSum;

  Value scores = globalView(b, sig.arg("scores"), f32);
  Value scratch = m.shared(32, f32);
  Value keys = m.shared(padded, i64);
  Value broadcast = m.shared(1, i32);
  Value rowBase = m.mul(m.row, m.index(numGroups));
  auto score = [&](Value j) { return m.load(scores, m.add(rowBase, j)); };

  // Normalization of the row (Score.h normalizeRow): shares that sum to 1.
  Value rowOffset, rowTotal;
  {
    Value local = m.loopCarry(
        m.tid, m.index(numGroups), m.index(threads),
        {m.f32(softmaxSum ? 0.0 : -INFINITY)},
        [&](Value j, ValueRange acc) -> SmallVector<Value> {
          return {softmaxSum ? m.addf(acc[0], score(j))
                             : m.maxf(acc[0], score(j))};
        })[0];
    if (softmaxSum) {
      rowOffset = m.f32(0);
      rowTotal = m.blockReduce(local, false, scratch);
    } else {
      rowOffset = m.blockReduce(local, true, scratch);
      Value sum = m.loopCarry(
          m.tid, m.index(numGroups), m.index(threads), {m.f32(0)},
          [&](Value j, ValueRange acc) -> SmallVector<Value> {
            return {m.addf(acc[0], m.exp(m.subf(score(j), rowOffset)))};
          })[0];
      rowTotal = m.blockReduce(sum, false, scratch);
    }
  }
  auto share = [&](Value j) -> Value {
    if (!softmaxSum)
      return m.divf(m.exp(m.subf(score(j), rowOffset)), rowTotal);
    Value positive = m.cmpf(arith::CmpFPredicate::OGT, rowTotal, m.f32(0));
    return m.select(positive, m.divf(score(j), rowTotal),
                    m.f32(1.0 / double(numGroups)));
  };

  // Candidates: children of the parent's kept groups.
  const int64_t ratio = hasParent ? p.parentGroup / p.group : 1;
  const int64_t numParents = hasParent ? ceilDiv(s, p.parentGroup) : 0;
  Value parentKept;
  if (hasParent) {
    parentKept = m.parentKeptFlags(
        globalView(b, sig.arg("parent_groups"), i32),
        globalView(b, sig.arg("parent_counts"), i32), numParents);
    m.barrier();
  }

  // Forced groups (Select.h ForcedGroups).
  Value blockFirst = m.mul(m.blockX, m.index(p.blockQ));
  Value denseRow = keepText ? overlaps(m, blockFirst, p.blockQ, s, textBegin,
                                       textEnd)
                            : m.boolean(false);
  Value frames =
      keepFirstFrame ? globalView(b, sig.arg("frames"), i32) : Value();
  auto forced = [&](Value j) -> Value {
    Value first = m.mul(j, m.index(p.group));
    Value result = m.boolean(false);
    if (keepText)
      result = m.ori(result, overlaps(m, first, p.group, s, textBegin,
                                      textEnd));
    if (keepDiagonal) {
      Value lastToken = m.sub(
          m.min(m.add(blockFirst, m.index(p.blockQ)), m.index(s)), m.index(1));
      Value lo = m.div(blockFirst, m.index(p.group));
      Value hi = m.div(lastToken, m.index(p.group));
      result = m.ori(result, m.andi(m.cmpi(arith::CmpIPredicate::uge, j, lo),
                                    m.cmpi(arith::CmpIPredicate::ule, j, hi)));
    }
    if (keepFirstFrame) {
      Value last = m.min(m.add(first, m.index(p.group)), m.index(s));
      Value any = m.loopCarry(
          first, last, m.index(1), {m.boolean(false)},
          [&](Value t, ValueRange acc) -> SmallVector<Value> {
            return {m.ori(acc[0], m.cmpi(arith::CmpIPredicate::eq,
                                         m.load(frames, t), m.i32(0)))};
          })[0];
      result = m.ori(result, any);
    }
    return result;
  };

  // Sort keys and the counts of forced and available (forced + candidate)
  // groups.
  SmallVector<Value> counted = m.loopCarry(
      m.tid, m.index(padded), m.index(threads), {m.f32(0), m.f32(0)},
      [&](Value j, ValueRange acc) -> SmallVector<Value> {
        Value real = m.ult(j, m.index(numGroups));
        Value safe = m.select(real, j, m.index(0));
        Value isForced = m.andi(real, forced(safe));
        Value candidate = real;
        if (hasParent)
          candidate = m.andi(
              real, m.cmpi(arith::CmpIPredicate::ne,
                           m.load(parentKept, m.div(safe, m.index(ratio))),
                           m.i32(0)));
        Value bits = m.orderedBits(score(safe));
        Value key = m.select(
            isForced, m.sortKey(2, Value(), safe),
            m.select(candidate, m.sortKey(1, bits, safe),
                     m.sortKey(0, bits, safe)));
        m.store(m.select(real, key, m.i64(0)), keys, j);
        Value one = m.f32(1), zero = m.f32(0);
        return {m.addf(acc[0], m.select(isForced, one, zero)),
                m.addf(acc[1], m.select(m.ori(isForced, candidate), one,
                                        zero))};
      });
  Value numForcedF = m.blockReduce(counted[0], false, scratch);
  Value availableF = m.blockReduce(counted[1], false, scratch);
  auto toIndexF = [&](Value v) {
    return m.toIndex(arith::FPToSIOp::create(b, i64, v));
  };
  Value numForced = toIndexF(numForcedF), available = toIndexF(availableF);
  m.bitonicSortDescending(keys, padded);
  // (Clamped: a caller may read a key another thread is overwriting and
  // discard the result; the load must stay inside the row.)
  auto sortedShareOf = [&](Value t) -> Value {
    return share(m.min(m.groupOfKey(m.load(keys, t)),
                       m.index(numGroups - 1)));
  };

  if (p.curve) {
    // recall(k) = the share of the first min(available, max(k, forced))
    // ranked groups: a prefix sum of the ranking's shares (chunks per
    // thread, the chunk totals scanned by one thread), written over the
    // keys as f32 bits.
    const int64_t per = std::max<int64_t>(1, padded / threads);
    Value partial = m.shared(threads, f32);
    Value first = m.mul(m.tid, m.index(per));
    // Reads only key t, which the calling thread owns (t < padded): a safe
    // index elsewhere would read a key another thread is overwriting
    // (racecheck reported it, though the value was discarded).
    auto shareAt = [&](Value t) {
      Value inRanking = m.ult(t, available);
      return m.select(inRanking, sortedShareOf(t), m.f32(0));
    };
    Value chunkTotal = m.loopCarry(
        first, m.min(m.add(first, m.index(per)), m.index(padded)), m.index(1),
        {m.f32(0)}, [&](Value t, ValueRange acc) -> SmallVector<Value> {
          return {m.addf(acc[0], shareAt(t))};
        })[0];
    m.store(chunkTotal, partial, m.tid);
    m.barrier();
    m.ifThen(m.cmpi(arith::CmpIPredicate::eq, m.tid, m.index(0)), [&] {
      m.loopCarry(m.index(0), m.index(threads), m.index(1), {m.f32(0)},
                  [&](Value i, ValueRange acc) -> SmallVector<Value> {
                    Value total = m.load(partial, i);
                    m.store(acc[0], partial, i); // exclusive offsets
                    return {m.addf(acc[0], total)};
                  });
    });
    m.barrier();
    // In place over the keys: each thread reads position t's key before it
    // writes t, and only its own chunk.
    m.loopCarry(first, m.min(m.add(first, m.index(per)), m.index(padded)),
                m.index(1), {m.load(partial, m.tid)},
                [&](Value t, ValueRange acc) -> SmallVector<Value> {
                  Value next = m.addf(acc[0], shareAt(t));
                  Value bits = arith::BitcastOp::create(b, b.getI32Type(), next);
                  m.store(arith::ExtUIOp::create(b, i64, bits), keys, t);
                  return {next};
                });
    m.barrier();
    auto prefixAt = [&](Value t) -> Value {
      Value bits = arith::TruncIOp::create(b, b.getI32Type(), m.load(keys, t));
      return arith::BitcastOp::create(b, f32, bits);
    };
    Value curve = globalView(b, sig.arg("curve"), f32);
    Value curveBase = m.mul(m.batchHead, m.index(numGroups));
    m.forThreads(m.index(numGroups), [&](Value j) {
      Value k = m.add(j, m.index(1));
      Value n = m.min(available, arith::MaxUIOp::create(b, k, numForced));
      Value hasAny = m.ult(m.index(0), n);
      Value safe = m.select(hasAny, m.sub(n, m.index(1)), m.index(0));
      Value recall = m.select(hasAny, prefixAt(safe), m.f32(0));
      recall = m.select(denseRow, m.f32(1), recall);
      memref::AtomicRMWOp::create(b, arith::AtomicRMWKind::addf, recall,
                                  curve, ValueRange{m.add(curveBase, j)});
    });
    gpu::ReturnOp::create(b);
    return sig.func;
  }

  // How many of the ranking the rule keeps (Select.cpp keepCount).
  auto sortedShare = sortedShareOf;
  Value kept;
  switch (p.selection.rule) {
  case SelectionRule::TopK: {
    // In f64 with the reference's tolerance (Select.cpp topkCount,
    // coarseCount), from the f64 density the runtime passes. The product is
    // non-negative, so truncation is floor; ceil adds one where it cut.
    auto f64 = [&](double v) {
      return arith::ConstantOp::create(b, b.getF64FloatAttr(v));
    };
    Value density;
    switch (p.density) {
    case SelectKernelParams::Density::Step:
      density = sig.arg("density");
      break;
    case SelectKernelParams::Density::Fixed:
      density = f64(p.fixedDensity);
      break;
    case SelectKernelParams::Density::PerHead:
      density = m.load(globalView(b, sig.arg("head_density"), b.getF64Type()),
                       m.batchHead);
      break;
    }
    Value product =
        arith::MulFOp::create(b, density, f64(double(numGroups)));
    Value rounded;
    if (p.finalLevel) {
      rounded = arith::FPToSIOp::create(
          b, i64, arith::AddFOp::create(b, product, f64(1e-9)));
    } else {
      Value x = arith::SubFOp::create(b, product, f64(1e-9));
      Value cut = arith::FPToSIOp::create(b, i64, x);
      Value back = arith::SIToFPOp::create(b, b.getF64Type(), cut);
      Value below = m.cmpf(arith::CmpFPredicate::OLT, back, x);
      rounded = m.select(below, arith::AddIOp::create(b, cut, m.i64(1)), cut);
    }
    Value budget = m.toIndex(rounded);
    budget = arith::MaxSIOp::create(b, budget, m.index(1));
    budget = m.min(budget, m.index(numGroups));
    kept = m.min(available, arith::MaxSIOp::create(b, budget, numForced));
    break;
  }
  case SelectionRule::TopP:
  case SelectionRule::Threshold: {
    // A sequential scan of the ranking by one thread, broadcast through
    // shared memory. The prefix is compared in f32 (the reference: f64).
    bool topp = p.selection.rule == SelectionRule::TopP;
    m.ifThen(m.cmpi(arith::CmpIPredicate::eq, m.tid, m.index(0)), [&] {
      Value n;
      if (topp) {
        Value forcedShare = m.loopCarry(
            m.index(0), numForced, m.index(1), {m.f32(0)},
            [&](Value t, ValueRange acc) -> SmallVector<Value> {
              return {m.addf(acc[0], sortedShare(t))};
            })[0];
        // while (n < available && share < p) share += ranking[n++]
        auto whileOp = scf::WhileOp::create(
            b, TypeRange{b.getIndexType(), f32},
            ValueRange{numForced, forcedShare});
        {
          OpBuilder::InsertionGuard guard(b);
          Block *before = b.createBlock(&whileOp.getBefore(), {},
                                        {b.getIndexType(), f32},
                                        {b.getLoc(), b.getLoc()});
          Value more = m.andi(
              m.ult(before->getArgument(0), available),
              m.cmpf(arith::CmpFPredicate::OLT, before->getArgument(1),
                     m.f32(p.selection.p)));
          scf::ConditionOp::create(b, more, before->getArguments());
          Block *after = b.createBlock(&whileOp.getAfter(), {},
                                       {b.getIndexType(), f32},
                                       {b.getLoc(), b.getLoc()});
          Value t = after->getArgument(0);
          scf::YieldOp::create(
              b, ValueRange{m.add(t, m.index(1)),
                            m.addf(after->getArgument(1), sortedShare(t))});
        }
        n = whileOp.getResult(0);
      } else {
        // The forced groups, the best candidate, then every candidate whose
        // share exceeds the threshold.
        Value start = m.select(m.ult(numForced, available),
                               m.add(numForced, m.index(1)), numForced);
        auto whileOp = scf::WhileOp::create(b, TypeRange{b.getIndexType()},
                                            ValueRange{start});
        {
          OpBuilder::InsertionGuard guard(b);
          Block *before = b.createBlock(&whileOp.getBefore(), {},
                                        {b.getIndexType()}, {b.getLoc()});
          Value t = before->getArgument(0);
          Value inRange = m.ult(t, available);
          Value safe = m.select(inRange, t, m.index(0));
          Value above =
              m.cmpf(arith::CmpFPredicate::OGT, sortedShare(safe),
                     m.f32(p.selection.threshold));
          scf::ConditionOp::create(b, m.andi(inRange, above),
                                   before->getArguments());
          Block *after = b.createBlock(&whileOp.getAfter(), {},
                                       {b.getIndexType()}, {b.getLoc()});
          scf::YieldOp::create(
              b, ValueRange{m.add(after->getArgument(0), m.index(1))});
        }
        n = whileOp.getResult(0);
      }
      m.store(m.indexToI32(n), broadcast, m.index(0));
    });
    m.barrier();
    kept = m.toIndex(m.load(broadcast, m.index(0)));
    break;
  }
  }
  // A dense row keeps everything.
  kept = m.select(denseRow, m.index(numGroups), kept);

  // The kept share (estimated recall); 1 for a dense row.
  Value recallLocal = m.loopCarry(
      m.tid, kept, m.index(threads), {m.f32(0)},
      [&](Value t, ValueRange acc) -> SmallVector<Value> {
        return {m.addf(acc[0], sortedShare(t))};
      })[0];
  Value recall = m.blockReduce(recallLocal, false, scratch);
  recall = m.select(denseRow, m.f32(1), recall);

  // The kept prefix of the ranking in ascending group order: a flag per
  // kept group, each thread's run of consecutive groups counted, the runs'
  // offsets scanned, and each thread writes its run's kept groups from its
  // offset on (a second sort of the ranking cost twice as much).
  Value flags = m.shared(padded, i32);
  Value warpCounts = m.shared(threads / 32, i32);
  m.forThreads(m.index(padded), [&](Value j) { m.store(m.i32(0), flags, j); });
  m.barrier();
  m.forThreads(kept, [&](Value t) {
    Value group = m.min(m.groupOfKey(m.load(keys, t)), m.index(numGroups - 1));
    m.store(m.i32(1), flags, group);
  });
  m.barrier();
  const int64_t run = std::max<int64_t>(1, padded / threads);
  Value runFirst = m.mul(m.tid, m.index(run));
  Value runEnd = m.min(m.add(runFirst, m.index(run)), m.index(padded));
  Value runCount = m.loopCarry(
      runFirst, runEnd, m.index(1), {m.i32(0)},
      [&](Value j, ValueRange acc) -> SmallVector<Value> {
        return {arith::AddIOp::create(b, acc[0], m.load(flags, j))};
      })[0];
  Value runOffset = m.blockExclusiveScan(runCount, warpCounts).first;
  Value groups = globalView(b, sig.arg("groups"), i32);
  m.loopCarry(runFirst, runEnd, m.index(1), {runOffset},
              [&](Value j, ValueRange acc) -> SmallVector<Value> {
                Value isKept = m.cmpi(arith::CmpIPredicate::ne,
                                      m.load(flags, j), m.i32(0));
                m.ifThen(isKept, [&] {
                  m.store(m.indexToI32(j), groups,
                          m.add(rowBase, m.toIndex(acc[0])));
                });
                return {arith::AddIOp::create(
                    b, acc[0], arith::ExtUIOp::create(b, i32, isKept))};
              });
  m.ifThen(m.cmpi(arith::CmpIPredicate::eq, m.tid, m.index(0)), [&] {
    m.store(m.indexToI32(kept), globalView(b, sig.arg("counts"), i32), m.row);
    m.store(recall, globalView(b, sig.arg("recall"), f32), m.row);
  });
  gpu::ReturnOp::create(b);
  return sig.func;
}

gpu::GPUFuncOp buildAdaptiveDensityKernel(OpBuilder &builder,
                                          gpu::GPUModuleOp module,
                                          const AdaptiveDensityKernelParams &p) {
  MLIRContext *ctx = builder.getContext();
  std::vector<KernelParam> params = {KernelParam::scratch(ctx, "curve"),
                                     KernelParam::buffer(ctx, "head_density")};
  const int64_t threads = AdaptiveDensityKernelParams::kThreads;
  Signature sig = startKernel(builder, module, p.name, params, threads);
  ImplicitLocOpBuilder b(sig.func.getLoc(), builder);
  b.setInsertionPointToStart(&sig.func.getBody().front());
  CtaBuilder m(b, sig.func, threads);
  Type f32 = b.getF32Type(), f64 = b.getF64Type();
  const int64_t g = p.numGroups;
  Value curve = globalView(b, sig.arg("curve"), f32);
  Value base = m.mul(m.batchHead, m.index(g));
  Value scratch = m.shared(32, f32);
  // The smallest k (as -k, for a max) whose mean recall reaches the target
  // with the reference's tolerance; k = G always qualifies.
  double target = p.adaptive.targetRecall - 1e-12;
  Value best = m.loopCarry(
      m.tid, m.index(g), m.index(threads), {m.f32(-double(g))},
      [&](Value j, ValueRange acc) -> SmallVector<Value> {
        Value mean = m.divf(m.load(curve, m.add(base, j)),
                            m.f32(double(p.numQueryBlocks)));
        Value k = m.add(j, m.index(1));
        Value reaches = m.ori(
            m.cmpf(arith::CmpFPredicate::OGE, arith::ExtFOp::create(b, f64, mean),
                   arith::ConstantOp::create(b, b.getF64FloatAttr(target))),
            m.cmpi(arith::CmpIPredicate::eq, k, m.index(g)));
        Value negK = m.subf(m.f32(0), m.indexToF32(k));
        return {m.select(reaches, m.maxf(acc[0], negK), acc[0])};
      })[0];
  Value k = m.blockReduce(best, /*isMax=*/true, scratch);
  // For the next refresh's atomics.
  m.forThreads(m.index(g),
               [&](Value j) { m.store(m.f32(0), curve, m.add(base, j)); });
  m.ifThen(m.cmpi(arith::CmpIPredicate::eq, m.tid, m.index(0)), [&] {
    Value kk = arith::ExtFOp::create(b, f64, m.subf(m.f32(0), k));
    Value density = arith::DivFOp::create(
        b, kk, arith::ConstantOp::create(b, b.getF64FloatAttr(double(g))));
    density = arith::MaximumFOp::create(
        b, density,
        arith::ConstantOp::create(b, b.getF64FloatAttr(p.adaptive.minDensity)));
    density = arith::MinimumFOp::create(
        b, density,
        arith::ConstantOp::create(b, b.getF64FloatAttr(p.adaptive.maxDensity)));
    m.store(density, globalView(b, sig.arg("head_density"), f64), m.batchHead);
  });
  gpu::ReturnOp::create(b);
  return sig.func;
}

//===----------------------------------------------------------------------===//
// Tail bins
//===----------------------------------------------------------------------===//

std::string tailKernelProblem(const TailKernelParams &p, int64_t numGroups) {
  if (numGroups > SelectKernelParams::kMaxGroups)
    return text(numGroups) + " key groups per row for the tail bins (at most " +
           text(SelectKernelParams::kMaxGroups) + ")";
  return "";
}

gpu::GPUFuncOp buildTailOrderKernel(OpBuilder &builder,
                                    gpu::GPUModuleOp module,
                                    const TailKernelParams &p) {
  MLIRContext *ctx = builder.getContext();
  std::vector<KernelParam> params = {
      KernelParam::buffer(ctx, "scores"), KernelParam::buffer(ctx, "groups"),
      KernelParam::buffer(ctx, "counts"), KernelParam::scratch(ctx, "bin_of")};
  const int64_t threads = TailKernelParams::kThreads;
  Signature sig = startKernel(builder, module, p.name + "_order", params,
                              threads);
  ImplicitLocOpBuilder b(sig.func.getLoc(), builder);
  b.setInsertionPointToStart(&sig.func.getBody().front());
  CtaBuilder m(b, sig.func, threads);
  Type f32 = b.getF32Type(), i32 = b.getI32Type(), i64 = b.getI64Type();
  Type i8 = b.getI8Type();
  const int64_t numGroups = ceilDiv(p.seqLen, p.group);
  const int64_t padded = nextPowerOfTwo(numGroups);

  Value scores = globalView(b, sig.arg("scores"), f32);
  Value groups = globalView(b, sig.arg("groups"), i32);
  Value binOf = globalView(b, sig.arg("bin_of"), i8);
  Value keys = m.shared(padded, i64);
  Value isKept = m.shared(numGroups, i8);
  Value rowBase = m.mul(m.row, m.index(numGroups));
  auto byte = [&](int v) {
    return arith::ConstantOp::create(b, b.getI8IntegerAttr(v)).getResult();
  };
  m.forThreads(m.index(numGroups), [&](Value j) { m.store(byte(0), isKept, j); });
  m.barrier();
  Value count = m.clampCount(
      m.load(globalView(b, sig.arg("counts"), i32), m.row),
      m.index(numGroups));
  m.forThreads(count, [&](Value t) {
    Value g = m.toIndex(m.load(groups, m.add(rowBase, t)));
    m.store(byte(1), isKept, m.min(g, m.index(numGroups - 1)));
  });
  m.barrier();
  // Unselected groups by score, highest first, ties to the lower index;
  // kept groups are in no bin.
  m.forThreads(m.index(padded), [&](Value j) {
    Value real = m.ult(j, m.index(numGroups));
    Value safe = m.select(real, j, m.index(0));
    Value kept =
        m.cmpi(arith::CmpIPredicate::ne, m.load(isKept, safe), byte(0));
    Value unselected =
        m.andi(real, arith::XOrIOp::create(b, kept, m.boolean(true)));
    Value key = m.sortKey(
        1, m.orderedBits(m.load(scores, m.add(rowBase, safe))), safe);
    m.store(m.select(unselected, key, m.i64(0)), keys, j);
    m.ifThen(m.andi(real, kept),
             [&] { m.store(byte(-1), binOf, m.add(rowBase, j)); });
  });
  m.barrier();
  m.bitonicSortDescending(keys, padded);
  // Runs of near-equal length over the U unselected groups, the earlier
  // ones one group longer (TailBins.cpp assignTailBins): position t of the
  // ranking is in bin t / (base + 1) among the first extra * (base + 1)
  // positions, then extra + (t - extra * (base + 1)) / base.
  Value unselected = m.sub(m.index(numGroups), count);
  Value used = m.min(unselected, m.index(p.bins));
  Value safeUsed = m.select(m.ult(m.index(0), used), used, m.index(1));
  Value base = m.div(unselected, safeUsed), extra = m.rem(unselected, safeUsed);
  Value longRuns = m.mul(extra, m.add(base, m.index(1)));
  Value safeBase = m.select(m.ult(m.index(0), base), base, m.index(1));
  m.forThreads(unselected, [&](Value t) {
    Value bin = m.select(
        m.ult(t, longRuns), m.div(t, m.add(base, m.index(1))),
        m.add(extra, m.div(m.sub(t, longRuns), safeBase)));
    Value binByte = arith::TruncIOp::create(b, i8, m.indexToI32(bin));
    m.store(binByte, binOf, m.add(rowBase, m.groupOfKey(m.load(keys, t))));
  });
  gpu::ReturnOp::create(b);
  return sig.func;
}

int64_t tailRowsPerCta(const TailKernelParams &) { return 64; }

int64_t tailSumsWidth(const TailKernelParams &p) { return p.headDim + 16; }

/// The operand the values kernel multiplies, made once per step:
/// sums[t][g] = (n_g * mean_g (D halves), n_g, 15 zeros) as f16, for keys
/// (t = 0) and values (t = 1), [B, H, 2, G, D + 16]; one thread per 16-byte
/// chunk of a row.
gpu::GPUFuncOp buildTailSumsKernel(OpBuilder &builder, gpu::GPUModuleOp module,
                                   const TailKernelParams &p) {
  MLIRContext *ctx = builder.getContext();
  std::vector<KernelParam> params = {KernelParam::buffer(ctx, "key_means"),
                                     KernelParam::buffer(ctx, "value_means"),
                                     KernelParam::scratch(ctx, "tail_sums")};
  const int64_t threads = TailKernelParams::kThreads;
  Signature sig =
      startKernel(builder, module, p.name + "_sums", params, threads);
  ImplicitLocOpBuilder b(sig.func.getLoc(), builder);
  b.setInsertionPointToStart(&sig.func.getBody().front());
  CtaBuilder m(b, sig.func, threads);
  Type f32 = b.getF32Type(), f16 = b.getF16Type();
  const int64_t numGroups = ceilDiv(p.seqLen, p.group), d = p.headDim;
  const int64_t width = tailSumsWidth(p), chunks = width / 8;

  Value means[2] = {globalView(b, sig.arg("key_means"), f32),
                    globalView(b, sig.arg("value_means"), f32)};
  Value sums = globalView(b, sig.arg("tail_sums"), f16);
  Value i = m.add(m.mul(m.blockX, m.index(threads)), m.tid);
  Value perTensor = m.index(numGroups * chunks);
  m.ifThen(m.ult(i, m.mul(perTensor, m.index(2))), [&] {
    Value tensor = m.div(i, perTensor);
    Value within = m.rem(i, perTensor);
    Value g = m.div(within, m.index(chunks));
    Value c = m.rem(within, m.index(chunks));
    Value n = m.indexToF32(m.min(
        m.index(p.group), m.sub(m.index(p.seqLen), m.mul(g, m.index(p.group)))));
    auto vec8 = VectorType::get({8}, f16);
    auto vec4 = VectorType::get({4}, f32);
    Value isMean = m.ult(c, m.index(d / 8));
    Value zero8 = arith::ConstantOp::create(
        b, DenseElementsAttr::get(vec8, b.getF16FloatAttr(0)));
    Value chunk = m.ifElse(isMean, vec8, [&] {
      // n * mean of the key or value means.
      Value at = m.add(m.mul(m.add(m.mul(m.batchHead, m.index(numGroups)), g),
                             m.index(d)),
                       m.mul(m.min(c, m.index(d / 8 - 1)), m.index(8)));
      Value isKeys = m.cmpi(arith::CmpIPredicate::eq, tensor, m.index(0));
      Value from = arith::SelectOp::create(b, isKeys, means[0], means[1]);
      Value out = zero8;
      for (int64_t half = 0; half < 2; ++half) {
        Value offset = m.add(at, m.index(4 * half));
        Value x = vector::LoadOp::create(b, vec4, from, ValueRange{offset});
        for (int64_t e = 0; e < 4; ++e) {
          Value scaled = m.mulf(
              vector::ExtractOp::create(b, x, ArrayRef<int64_t>{e}), n);
          out = vector::InsertOp::create(
              b, arith::TruncFOp::create(b, f16, scaled), out,
              ArrayRef<int64_t>{4 * half + e});
        }
      }
      return out;
    }, [&] {
      // The count column (chunk d / 8, element 0), then zeros.
      Value first = m.cmpi(arith::CmpIPredicate::eq, c, m.index(d / 8));
      Value count = m.select(first, arith::TruncFOp::create(b, f16, n),
                             arith::ConstantOp::create(
                                 b, b.getF16FloatAttr(0)));
      return vector::InsertOp::create(b, count, zero8, ArrayRef<int64_t>{0})
          .getResult();
    });
    Value row = m.add(m.mul(m.add(m.mul(m.batchHead, m.index(2)), tensor),
                            m.index(numGroups)),
                      g);
    vector::StoreOp::create(b, chunk, sums,
                            ValueRange{m.add(m.mul(row, m.index(width)),
                                             m.mul(c, m.index(8)))},
                            /*nontemporal=*/false, llvm::MaybeAlign(16));
  });
  gpu::ReturnOp::create(b);
  return sig.func;
}

/// Per bin b, a product on tensor cores: sums[row, :] = sum over groups g
/// with bin_of[row, g] == b of (n_g * mean_g, n_g), A = the 0/1 membership
/// (built in registers from bin_of), B = the f16 rows of the sums kernel,
/// brought into shared memory 32 groups at a time by cp.async (two stages)
/// and read with ldmatrix.trans; the column after the D channels gives the
/// bin's token count. One CTA per (64 query blocks, bin); warps 0-3 sum
/// keys, 4-7 values, 16 query blocks each.
gpu::GPUFuncOp buildTailValuesKernel(OpBuilder &builder,
                                     gpu::GPUModuleOp module,
                                     const TailKernelParams &p) {
  MLIRContext *ctx = builder.getContext();
  std::vector<KernelParam> params = {
      KernelParam::scratch(ctx, "bin_of"),
      KernelParam::scratch(ctx, "tail_sums"),
      KernelParam::buffer(ctx, "tail_keys"),
      KernelParam::buffer(ctx, "tail_values"),
      KernelParam::buffer(ctx, "tail_log_counts")};
  const int64_t threads = TailKernelParams::kThreads, rows = tailRowsPerCta(p);
  Signature sig = startKernel(builder, module, p.name + "_values", params,
                              threads);
  // Two CTAs per SM (at most 128 registers a thread): one CTA alone waits
  // for each chunk's loads. The driver's linker compiles relocatable code,
  // where ptxas otherwise took 166 registers (ncu) against 126 in a whole
  // program compile.
  sig.func->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                    builder.getI32IntegerAttr(2));
  ImplicitLocOpBuilder b(sig.func.getLoc(), builder);
  b.setInsertionPointToStart(&sig.func.getBody().front());
  CtaBuilder m(b, sig.func, threads);
  Type f32 = b.getF32Type(), f16 = b.getF16Type(), i8 = b.getI8Type();
  const int64_t numGroups = ceilDiv(p.seqLen, p.group), d = p.headDim;
  const int64_t numBlocks = ceilDiv(p.seqLen, p.blockQ), bins = p.bins;
  const int64_t width = tailSumsWidth(p), chunkCopies = width / 8;
  // Groups per stage; shared rows of width halves padded to an odd number
  // of 16-byte units, so that the 8 rows of an ldmatrix hit distinct banks.
  const int64_t chunk = 32, pitch = width + 8;
  const int64_t nTiles = width / 8; // D / 8 channel tiles, the count tile, 1
  const int64_t countTile = d / 8;

  Value binOf = globalView(b, sig.arg("bin_of"), i8);
  Value sums = globalView(b, sig.arg("tail_sums"), f16);
  Value outs[2] = {globalView(b, sig.arg("tail_keys"), f32),
                   globalView(b, sig.arg("tail_values"), f32)};
  Value tailLogCounts = globalView(b, sig.arg("tail_log_counts"), f32);
  // [stage][tensor][group][pitch] halves.
  const int64_t tensorHalves = chunk * pitch;
  Value staged = m.shared(2 * 2 * tensorHalves, f16);

  Value role = m.div(m.warp, m.index(4)); // 0 keys, 1 values
  Value mWarp = m.rem(m.warp, m.index(4));
  Value group = m.div(m.lane, m.index(4)), quad = m.rem(m.lane, m.index(4));
  // grid.x = row tiles x bins: each CTA sums one bin of `rows` rows.
  Value bin = m.rem(m.blockX, m.index(bins));
  Value firstBlock = m.mul(m.div(m.blockX, m.index(bins)), m.index(rows));
  Value rowOf[2] = {
      m.add(firstBlock, m.add(m.mul(mWarp, m.index(16)), group)),
      m.add(firstBlock,
            m.add(m.mul(mWarp, m.index(16)), m.add(group, m.index(8))))};
  Value rowBase = m.mul(m.batchHead, m.index(numBlocks));
  Value sumsBase = m.mul(m.mul(m.batchHead, m.index(2 * numGroups)),
                         m.index(width));
  Value zeroH = arith::ConstantOp::create(b, b.getF16FloatAttr(0));
  Value oneH = arith::ConstantOp::create(b, b.getF16FloatAttr(1));
  auto f16x2 = VectorType::get({2}, f16);
  const int64_t numChunks = ceilDiv(numGroups, chunk);

  // cp.async of chunk `c` (groups c*32 ...) of both tensors into stage `s`;
  // groups past the end are zero-filled.
  auto issueChunk = [&](Value c, Value s) {
    m.forThreads(m.index(2 * chunk * chunkCopies), [&](Value i) {
      Value tensor = m.div(i, m.index(chunk * chunkCopies));
      Value within = m.rem(i, m.index(chunk * chunkCopies));
      Value gl = m.div(within, m.index(chunkCopies));
      Value piece = m.rem(within, m.index(chunkCopies));
      Value g = m.add(m.mul(c, m.index(chunk)), gl);
      Value valid = m.ult(g, m.index(numGroups));
      Value safe = m.select(valid, g, m.index(0));
      Value src = m.add(
          m.add(sumsBase,
                m.mul(m.add(m.mul(tensor, m.index(numGroups)), safe),
                      m.index(width))),
          m.mul(piece, m.index(8)));
      Value dst = m.add(
          m.add(m.mul(m.add(m.mul(s, m.index(2)), tensor),
                      m.index(tensorHalves)),
                m.mul(gl, m.index(pitch))),
          m.mul(piece, m.index(8)));
      m.copy16(staged, dst, sums, src, valid);
    });
    NVVM::CpAsyncCommitGroupOp::create(b);
  };

  Value bin8 = arith::TruncIOp::create(b, i8, m.indexToI32(bin));
  // A: 1 where the group is in this bin (rows, groups past the end: 0).
  auto member = [&](int r, Value g) {
    Value valid = m.andi(m.ult(rowOf[r], m.index(numBlocks)),
                         m.ult(g, m.index(numGroups)));
    Value safeRow = m.select(valid, rowOf[r], m.index(0));
    Value safeG = m.select(valid, g, m.index(0));
    Value v = m.load(binOf, m.add(m.mul(m.add(rowBase, safeRow),
                                        m.index(numGroups)),
                                  safeG));
    return m.select(
        m.andi(valid, m.cmpi(arith::CmpIPredicate::eq, v, bin8)), oneH,
        zeroH);
  };
  auto pair = [&](int r, Value g) {
    Value v = arith::ConstantOp::create(
        b, DenseElementsAttr::get(f16x2, b.getF16FloatAttr(0)));
    v = vector::InsertOp::create(b, member(r, g), v, ArrayRef<int64_t>{0});
    v = vector::InsertOp::create(b, member(r, m.add(g, m.index(1))), v,
                                 ArrayRef<int64_t>{1});
    return v;
  };
  // ldmatrix.x4.trans lanes: rows (groups) lane % 8 (+8 for matrices 1, 3),
  // columns +8 for matrices 2, 3: the B fragments of two n8 tiles.
  Value ldMatrix = m.div(m.lane, m.index(8));
  Value bLane = m.add(
      m.mul(m.add(m.rem(m.lane, m.index(8)),
                  m.mul(m.rem(ldMatrix, m.index(2)), m.index(8))),
            m.index(pitch)),
      m.mul(m.div(ldMatrix, m.index(2)), m.index(8)));

  // The A fragments (membership) of chunk c: per k16 step, rows r and
  // r + 8 at groups k0 and k0 + 8. Loaded a chunk ahead and carried, so
  // that the byte loads of bin_of are in flight during a chunk's products.
  auto membership = [&](Value c) {
    SmallVector<Value> a;
    Value g0 = m.mul(c, m.index(chunk));
    for (int64_t kk = 0; kk < chunk / 16; ++kk) {
      Value k0 =
          m.add(m.add(g0, m.index(kk * 16)), m.mul(quad, m.index(2)));
      Value k8 = m.add(k0, m.index(8));
      for (Value v : {pair(0, k0), pair(1, k0), pair(0, k8), pair(1, k8)})
        a.push_back(v);
    }
    return a;
  };

  issueChunk(m.index(0), m.index(0));
  SmallVector<Value> init(nTiles * 4, m.f32(0));
  for (Value v : membership(m.index(0)))
    init.push_back(v);
  SmallVector<Value> acc = m.loopCarry(
      m.index(0), m.index(numChunks), m.index(1), init,
      [&](Value c, ValueRange in) -> SmallVector<Value> {
        Value next = m.add(c, m.index(1));
        // Past the last chunk the loads read group numGroups.. (masked to
        // zeros by member()).
        SmallVector<Value> nextA = membership(next);
        Value stage = m.rem(c, m.index(2));
        // The next chunk in flight (an empty group past the last) while
        // this one is multiplied.
        m.ifThen(m.ult(next, m.index(numChunks)), [&] {
          issueChunk(next, m.rem(next, m.index(2)));
        });
        m.ifThen(m.cmpi(arith::CmpIPredicate::uge, next, m.index(numChunks)),
                 [&] { NVVM::CpAsyncCommitGroupOp::create(b); });
        NVVM::CpAsyncWaitGroupOp::create(b, 1);
        m.barrier();
        Value base = m.add(
            m.mul(m.add(m.mul(stage, m.index(2)), role), m.index(tensorHalves)),
            bLane);
        SmallVector<Value> acc(in.begin(), in.begin() + nTiles * 4);
        for (int64_t kk = 0; kk < chunk / 16; ++kk) {
          SmallVector<Value> a(in.begin() + nTiles * 4 + 4 * kk,
                               in.begin() + nTiles * 4 + 4 * kk + 4);
          for (int64_t nt = 0; nt < nTiles; nt += 2) {
            SmallVector<Value> frag = m.ldmatrix(
                staged, m.add(base, m.index(16 * kk * pitch + 8 * nt)), f16,
                /*transpose=*/true, /*tiles=*/4);
            for (int64_t half = 0; half < 2; ++half) {
              auto resultType =
                  LLVM::LLVMStructType::getLiteral(ctx, {f32, f32, f32, f32});
              int64_t t = nt + half;
              SmallVector<Value> cIn(acc.begin() + t * 4,
                                     acc.begin() + t * 4 + 4);
              Value result = NVVM::MmaOp::create(
                  b, resultType, a, {frag[2 * half], frag[2 * half + 1]}, cIn,
                  ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
                  std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::f16,
                                                NVVM::MMATypes::f16},
                  std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                                 NVVM::MMALayout::col});
              for (int64_t i = 0; i < 4; ++i)
                acc[t * 4 + i] = LLVM::ExtractValueOp::create(b, result, i);
            }
          }
        }
        // The stage is refilled two chunks on.
        m.barrier();
        acc.append(nextA.begin(), nextA.end());
        return acc;
      });
  acc.resize(nTiles * 4);
  NVVM::CpAsyncWaitGroupOp::create(b, 0);

  // The count: column 0 of the count tile, held by the quad's lane 0.
  Value isKeys = m.cmpi(arith::CmpIPredicate::eq, role, m.index(0));
  Value quadLead = m.mul(group, m.index(4));
  for (int r = 0; r < 2; ++r) {
    Value n = acc[countTile * 4 + 2 * r];
    n = gpu::ShuffleOp::create(b, n, m.indexToI32(quadLead), m.i32(32),
                               gpu::ShuffleMode::IDX)
            .getShuffleResult();
    Value nonEmpty = m.cmpf(arith::CmpFPredicate::OGT, n, m.f32(0));
    Value inverse = m.select(
        nonEmpty, NVVM::RcpApproxFtzF32Op::create(b, f32, n), m.f32(0));
    m.ifThen(m.ult(rowOf[r], m.index(numBlocks)), [&] {
      Value slot =
          m.add(m.mul(m.add(rowBase, rowOf[r]), m.index(bins)), bin);
      for (int64_t nt = 0; nt < countTile; ++nt)
        for (int64_t h = 0; h < 2; ++h) {
          Value col = m.add(m.index(nt * 8 + h), m.mul(quad, m.index(2)));
          Value at = m.add(m.mul(slot, m.index(d)), col);
          Value v = m.mulf(acc[nt * 4 + 2 * r + h], inverse);
          m.ifThen(isKeys, [&] { m.store(v, outs[0], at); });
          m.ifThen(m.cmpi(arith::CmpIPredicate::ne, role, m.index(0)),
                   [&] { m.store(v, outs[1], at); });
        }
      Value writer = m.andi(
          isKeys, m.cmpi(arith::CmpIPredicate::eq, quad, m.index(0)));
      m.ifThen(writer, [&] {
        m.store(m.select(nonEmpty, m.ln(n), m.f32(-INFINITY)), tailLogCounts,
                slot);
      });
    });
  }
  gpu::ReturnOp::create(b);
  return sig.func;
}

} // namespace sattn
