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
  // A persistent kernel's grid does not say the problem's size.
  if (p.persistent)
    for (const char *dim : {"heads", "batch"})
      params.push_back(KernelParam::scalar(dim, i32));
  return params;
}

AttentionEntry readAttentionEntry(KernelOps &m, const AttentionKernelParams &p,
                                  function_ref<Value(StringRef, int64_t)> arg) {
  ImplicitLocOpBuilder &b = m.b;
  AttentionEntry e;
  e.seqLen = m.toIndex(arg("seq_len", -1));
  e.capacity = m.toIndex(arg("capacity", -1));
  e.scaleLog2 = arith::MulFOp::create(b, arg("scale", -1), m.f32(kLog2e));
  // The CTA's item, where the grid is the problem. (The order of the ops
  // below is the one these kernels had before persistent ones existed, so
  // that their PTX stayed the same.)
  bool oneItem = !p.persistent;
  if (oneItem) {
    e.queryBlock = gpu::BlockIdOp::create(b, gpu::Dimension::x);
    e.head = gpu::BlockIdOp::create(b, gpu::Dimension::y);
    e.batch = gpu::BlockIdOp::create(b, gpu::Dimension::z);
    e.numQueryBlocks = gpu::GridDimOp::create(b, gpu::Dimension::x);
    e.heads = gpu::GridDimOp::create(b, gpu::Dimension::y);
  }
  e.thread = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  e.warp = m.div(e.thread, m.index(32));
  e.lane = m.rem(e.thread, m.index(32));
  if (oneItem)
    e.setCoordinates(m, p);

  Type half =
      p.dtype == DType::BF16 ? Type(b.getBF16Type()) : Type(b.getF16Type());
  auto tensor = [&](StringRef name) {
    AttentionEntry::Tensor t;
    if (oneItem) {
      t.base = m.add(m.mul(e.batch, m.toIndex(arg(name, 0))),
                     m.mul(e.head, m.toIndex(arg(name, 1))));
    } else {
      t.batchStride = m.toIndex(arg(name, 0));
      t.headStride = m.toIndex(arg(name, 1));
    }
    t.view = globalView(b, arg(name, -1), half);
    t.tokenStride = m.toIndex(arg(name, 2));
    return t;
  };
  e.q = tensor("q");
  e.k = tensor("k");
  e.v = tensor("v");
  e.out = tensor("out");

  e.groups = globalView(b, arg("groups", -1), b.getI32Type());
  e.counts = globalView(b, arg("counts", -1), b.getI32Type());
  // A dense step (SPEC §4 warm-up) walks every group, ignoring the lists
  // and the tail bins.
  e.dense = arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                                  arg("dense", -1), m.i32(0));
  if (oneItem)
    e.setList(m);
  if (p.tokenOrder)
    e.tokenOrder = globalView(b, arg("token_order", -1), b.getI32Type());
  if (p.persistent) {
    e.numQueryBlocks = m.div(m.add(e.seqLen, m.index(p.blockQ - 1)),
                             m.index(p.blockQ));
    e.heads = m.toIndex(arg("heads", -1));
    e.items = m.mul(m.mul(e.numQueryBlocks, e.heads),
                    m.toIndex(arg("batch", -1)));
  }
  return e;
}

void AttentionEntry::setCoordinates(KernelOps &m,
                                    const AttentionKernelParams &p) {
  batchHead = m.add(m.mul(batch, heads), head);
  row = m.add(m.mul(batchHead, numQueryBlocks), queryBlock);
  blockStart = m.mul(queryBlock, m.index(p.blockQ));
}

void AttentionEntry::setList(KernelOps &m) {
  // Counts come from the caller: clamp them into [0, capacity] so that a
  // bad count can never read past the row's list.
  count = m.select(
      dense, capacity,
      m.clampCount(memref::LoadOp::create(m.b, counts, ValueRange{row}),
                   capacity));
  listBase = m.mul(row, capacity);
}

void AttentionEntry::setItem(KernelOps &m, const AttentionKernelParams &p,
                             Value item) {
  // In 32 bits (items < 2^31): ptxas expands a 64-bit division by a
  // run-time value into a subroutine, a call in the driver linker's
  // relocatable compile, which serializes every wgmma (C7509).
  Type i32 = m.b.getI32Type();
  auto narrow = [&](Value v) {
    return arith::IndexCastUIOp::create(m.b, i32, v).getResult();
  };
  auto widen = [&](Value v) {
    return arith::IndexCastUIOp::create(m.b, m.b.getIndexType(), v)
        .getResult();
  };
  Value item32 = narrow(item), blocks32 = narrow(numQueryBlocks),
        heads32 = narrow(heads);
  Value batchHeadOf = arith::DivUIOp::create(m.b, item32, blocks32);
  queryBlock = widen(arith::RemUIOp::create(m.b, item32, blocks32));
  head = widen(arith::RemUIOp::create(m.b, batchHeadOf, heads32));
  batch = widen(arith::DivUIOp::create(m.b, batchHeadOf, heads32));
  setCoordinates(m, p);
  for (Tensor *t : {&q, &k, &v, &out})
    t->base = m.add(m.mul(batch, t->batchStride), m.mul(head, t->headStride));
  setList(m);
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
