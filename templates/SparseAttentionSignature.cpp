//===- SparseAttentionSignature.cpp - Parameters of attention kernels -----===//

#include "templates/SparseAttentionSignature.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace sattn {

std::vector<KernelParam> sparseAttentionParams(MLIRContext *ctx,
                                               const AttentionKernelParams &p) {
  std::vector<KernelParam> params;
  for (const char *tensor : {"q", "k", "v", "out"})
    params.push_back(KernelParam::buffer(ctx, tensor));
  for (const char *tensor : {"q", "k", "v", "out"})
    for (int64_t dim = 0; dim < 3; ++dim)
      params.push_back(KernelParam::stride(ctx, tensor, dim));
  // The K and V tiles' TMA tensor maps: boxes of 64 columns (128 bytes, the
  // swizzle span) by a key group's rows, 128-byte swizzled as the wgmma
  // descriptors read them.
  if (loadsKeysWithTma(p))
    for (const char *tensor : {"k", "v"})
      params.push_back(
          KernelParam::tensorMap(ctx, tensor, 64, tmaBoxRows(p), 128));
  params.push_back(KernelParam::buffer(ctx, "groups"));
  params.push_back(KernelParam::buffer(ctx, "counts"));
  if (p.bins > 0)
    for (const char *tail : {"tail_keys", "tail_values", "tail_log_counts"})
      params.push_back(KernelParam::buffer(ctx, tail));
  if (p.writeLse)
    params.push_back(KernelParam::buffer(ctx, "lse"));
  if (p.tokenOrder)
    params.push_back(KernelParam::constant(ctx, "token_order", "token_order"));
  Type i32 = IntegerType::get(ctx, 32);
  params.push_back(KernelParam::scalar("seq_len", i32));
  params.push_back(KernelParam::scalar("capacity", i32));
  params.push_back(KernelParam::scalar("scale", Float32Type::get(ctx)));
  params.push_back(KernelParam::scalar("dense", i32));
  return params;
}

AttentionEntry readAttentionEntry(KernelOps &m, const AttentionKernelParams &p,
                                  function_ref<Value(StringRef, int64_t)> arg) {
  ImplicitLocOpBuilder &b = m.b;
  AttentionEntry e;
  e.seqLen = m.toIndex(arg("seq_len", -1));
  e.capacity = m.toIndex(arg("capacity", -1));
  e.scaleLog2 = arith::MulFOp::create(b, arg("scale", -1), m.f32(kLog2e));
  e.queryBlock = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  e.head = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  e.batch = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  e.numQueryBlocks = gpu::GridDimOp::create(b, gpu::Dimension::x);
  e.heads = gpu::GridDimOp::create(b, gpu::Dimension::y);
  e.thread = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  e.warp = m.div(e.thread, m.index(32));
  e.lane = m.rem(e.thread, m.index(32));
  e.batchHead = m.add(m.mul(e.batch, e.heads), e.head);
  e.row = m.add(m.mul(e.batchHead, e.numQueryBlocks), e.queryBlock);
  e.blockStart = m.mul(e.queryBlock, m.index(p.blockQ));

  Type half =
      p.dtype == DType::BF16 ? Type(b.getBF16Type()) : Type(b.getF16Type());
  auto tensor = [&](StringRef name) {
    Value base = m.add(m.mul(e.batch, m.toIndex(arg(name, 0))),
                       m.mul(e.head, m.toIndex(arg(name, 1))));
    return AttentionEntry::Tensor{globalView(b, arg(name, -1), half), base,
                                  m.toIndex(arg(name, 2))};
  };
  e.q = tensor("q");
  e.k = tensor("k");
  e.v = tensor("v");
  e.out = tensor("out");

  e.groups = globalView(b, arg("groups", -1), b.getI32Type());
  e.counts = globalView(b, arg("counts", -1), b.getI32Type());
  // Counts come from the caller: clamp them into [0, capacity] so that a
  // bad count can never read past the row's list.
  // A dense step (SPEC §4 warm-up) walks every group, ignoring the lists
  // and the tail bins.
  e.dense = arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                                  arg("dense", -1), m.i32(0));
  e.count = m.select(
      e.dense, e.capacity,
      m.clampCount(memref::LoadOp::create(b, e.counts, ValueRange{e.row}),
                   e.capacity));
  e.listBase = m.mul(e.row, e.capacity);
  if (p.tokenOrder)
    e.tokenOrder = globalView(b, arg("token_order", -1), b.getI32Type());
  return e;
}

Value AttentionEntry::groupAt(KernelOps &m, Value slot) const {
  Value listed = memref::LoadOp::create(m.b, groups,
                                        ValueRange{m.add(listBase, slot)});
  Value index = arith::IndexCastOp::create(m.b, m.b.getI32Type(), slot);
  return m.select(dense, index, listed);
}

Value AttentionEntry::rowOf(KernelOps &m, Value position) const {
  if (!tokenOrder)
    return position;
  Value entry = memref::LoadOp::create(m.b, tokenOrder, ValueRange{position});
  return m.min(m.toIndex(entry), m.sub(seqLen, m.index(1)));
}

} // namespace sattn
