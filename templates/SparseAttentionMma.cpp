//===- SparseAttentionMma.cpp - Tensor-core block-sparse attention --------===//
//
// Two kernels from one template: mma.sync (sm_80 and later) and, with
// `p.wgmma`, wgmma (sm_90a). They differ in the shared-memory layout of the
// Q/K/V tiles and in the two matrix products (MmaPlan; computeTile); the
// loads, the group-index staging, the softmax, the tail bins and the
// epilogue are the same code.
//
// Shape: one CTA per (query block, head, batch), grid (ceil(S/Br), H, B).
// mma.sync: each warp owns `warpRows` query rows (one or two m16 tiles), so
// all its matrix products are m16n8k16 mma.sync (bf16 or fp16 in, fp32 out);
// with 32 rows per warp every K/V fragment read from shared memory feeds two
// mma. wgmma: each warpgroup owns 64 rows (16 per warp, the same fragment
// layout), its products are m64nNk16 wgmma reading Q, K and V through
// shared-memory descriptors (P from registers).
//
// Key tiles: the kernel walks the block's kept key groups Bc keys at a time
// (Bc = keyTile). Groups smaller than Bc are gathered, Bc/N of them per tile,
// so that the tensor cores always see full tiles (FG-Attn's fine-grained
// case); larger groups are split into N/Bc tiles. Rows past the end of the
// list or of the sequence are zero-filled and masked with a -inf column bias.
//
// Memory traffic: Q is read once (cp.async into shared memory; its fragments
// are re-read from there with ldmatrix for each tile, which keeps registers
// for the accumulators). K and V tiles stream through `stages` shared buffers
// with cp.async (16 bytes per copy, L1 bypassed), the next tiles in flight
// while the current one is multiplied. Each K/V row is read from global
// memory once per CTA. The group indices of a tile are fetched from global
// memory one tile ahead and its K/V rows staged in shared memory, so their
// latency is hidden behind a tile of math. Shared rows are padded by 16
// bytes so that the 8 row addresses of an ldmatrix hit distinct banks.
//
// Token order (`p.tokenOrder`): q, k, v and out stay in frame-major order
// and every row goes through the `token_order` table: Q rows and output
// rows at the start and the end, K/V rows when they are staged (the groups
// are then fetched two tiles ahead, so that the table's load is in flight
// during a tile's math too). No reordered copies are needed.
//
// Per tile: S = Q K^T (ldmatrix.x4 of Q and K), online softmax in fp32 on
// the accumulator fragments (tiles whose keys are all valid skip the column
// biases and fold scale and max into one FMA per logit) (row max and sum over
// the 4 threads of a quad, base-2 exponentials), P converted in registers to
// the A operand of P V (the C fragment of two n8 tiles is the A fragment of one
// k16 step), O += P V (ldmatrix.x4.trans of V). Tail bins come last as one
// extra tile: their mean keys and values (fp32 in global memory) are rounded
// into the K/V buffers and their `log n_b` is the column bias.
//
// Synchronization: cp.async groups (one per tile, committed even when empty,
// so that waiting for `stages - 1` pending groups always means "this tile has
// landed") and two CTA barriers per tile: before reading a tile, and before
// its buffers and the staged rows are reused.
//
// Warp-specialized (`p.warpSpecialized`, sm_90a, "wgmma-ws"): the same
// products, softmax, tail tile and epilogue, run by roles. Warpgroup 0 is
// the producer: each of its warps fetches the groups of a quarter of each
// key tile a tile ahead and writes those rows' column biases. On the
// reordered sequence the rows come by TMA (cp.async.bulk.tensor, one box
// per key group and 64 columns, 128-byte swizzled as wgmma reads them, from
// tensor maps passed by value), completing on the stage's mbarrier through
// its expected byte count; through the token order a group's rows are
// scattered and the warps copy them with cp.async (cp.async.mbarrier.
// arrive.noinc). K and V each have their own barriers, full and empty
// (FlashAttention-3's split). Warpgroups 1 and 2 each own 64 query rows and
// take turns issuing their products (two named barriers), so that one runs
// its softmax while the other's products keep the tensor cores busy. With
// TMA they are also software-pipelined (FlashAttention-3's intra-warpgroup
// overlap): S of tile t is issued with P V of tile t - 1 and its softmax
// runs while P V is in flight; otherwise they wait for K, run S and the
// softmax, release K, wait for V, run P V and release V.
// No CTA barrier after the start.
//
//===----------------------------------------------------------------------===//

#include "templates/SparseAttentionMma.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"

#include <cmath>
#include <functional>
#include <optional>

using namespace mlir;

namespace sattn {
namespace {

/// Sizes and shared-memory offsets, all fixed at instantiation.
///
/// Two shared-memory layouts of the Q, K and V tiles:
///  - mma.sync (sm_80): row-major rows padded by 16 bytes, so that the 8 row
///    addresses of an ldmatrix hit distinct banks;
///  - wgmma (sm_90a): the tensor cores read the tiles themselves, through
///    matrix descriptors, in the 128-byte swizzled layout: a tile of R rows is
///    head_dim / 64 column blocks of R rows x 128 bytes, and 16-byte chunk c
///    of row r sits at chunk position c ^ (r % 8) of its row. Each 8-row
///    group (1024 bytes) is one swizzle atom; regions start 1024-aligned.
struct MmaPlan {
  explicit MmaPlan(const AttentionKernelParams &p)
      : wgmma(p.wgmma || p.warpSpecialized), ws(p.warpSpecialized),
        tma(loadsKeysWithTma(p)), boxRows(tmaBoxRows(p)),
        d(p.headDim), br(p.blockQ), n(p.blockK),
        bc(p.keyTile), stages(p.stages), bins(p.bins),
        binsPad((p.bins + 15) / 16 * 16),
        warpRows(wgmma ? 16
                 : p.warpRows ? p.warpRows
                              : (p.blockQ == 128 ? 32 : 16)),
        mTiles(warpRows / 16), warps(p.blockQ / warpRows + (ws ? 4 : 0)),
        threads(32 * warps), pitch(wgmma ? p.headDim : p.headDim + 8),
        rows(std::max(bc, binsPad)) {}

  bool wgmma;
  /// Warp-specialized (sm_90a): warpgroup 0 loads, one consumer warpgroup
  /// per 64 query rows computes; stages guarded by mbarriers.
  bool ws;
  /// Warp-specialized on the reordered sequence: K/V tiles come by TMA, one
  /// box of `boxRows` rows per key group (or per tile of a larger group)
  /// and 64-column block, into the same swizzled layout.
  bool tma;
  int64_t boxRows;
  int64_t d, br, n, bc, stages, bins, binsPad, warpRows, mTiles, warps, threads;
  /// Elements per shared row (mma.sync: 16 bytes of padding against bank
  /// conflicts); a region of R rows holds R * pitch elements.
  int64_t pitch;
  /// K/V rows per stage: a key tile, or the padded tail bins.
  int64_t rows;

  // Offsets in 2-byte elements from the start of dynamic shared memory.
  int64_t qOffset() const { return 0; }
  int64_t kOffset(int64_t stage) const {
    return br * pitch + stage * rows * pitch;
  }
  int64_t vOffset(int64_t stage) const {
    return br * pitch + (stages + stage) * rows * pitch;
  }
  int64_t halfBytes() const {
    return (br * pitch + 2 * stages * rows * pitch) * 2;
  }
  /// The column biases (f32) follow the halves; offset in 4-byte elements.
  int64_t biasOffset(int64_t stage) const {
    return halfBytes() / 4 + stage * rows;
  }
  /// Rows of staged K/V row numbers per stage: the warp-specialized kernel's
  /// producer keeps them in registers.
  int64_t idsRows() const { return ws ? 0 : bc; }
  /// The staged K/V rows (i32, -1: none) of each stage's tile, one per row.
  int64_t idsOffset(int64_t stage) const {
    return halfBytes() / 4 + stages * rows + stage * idsRows();
  }
  /// Per stage, the number of the last tile that had a masked row (i32):
  /// tiles without one take the unmasked fast path.
  int64_t maskedTileOffset(int64_t stage) const {
    return halfBytes() / 4 + stages * (rows + idsRows()) + stage;
  }
  /// Warp-specialized: the mbarriers (8 bytes each, 8-aligned), in bytes:
  /// per stage, K full, V full, K empty, V empty (`kind` 0 to 3).
  int64_t barrierBytes(int64_t kind, int64_t stage) const {
    return (halfBytes() + stages * (rows + 1) * 4 + 7) / 8 * 8 +
           8 * (kind * stages + stage);
  }
  int64_t bytes() const {
    return ws ? barrierBytes(4, 0)
              : halfBytes() + stages * (rows + bc + 1) * 4;
  }
  /// Warp-specialized: consumer threads (a warpgroup per 64 query rows),
  /// key rows each producer warp stages, and the rows a producer warp
  /// covers with one 16-byte copy per lane.
  int64_t consumerThreads() const { return 2 * br; }
  int64_t producerWarpRows() const { return bc / 4; }
  int64_t rowsPerCopy() const { return 32 / chunksPerRow(); }
  /// 16-byte chunks per row, and chunk copies per thread for a key tile.
  int64_t chunksPerRow() const { return d / 8; }
  int64_t copiesPerThread() const { return bc * chunksPerRow() / threads; }
  /// TMA: boxes per key tile (one producer lane issues each), and the bytes
  /// of one box's 64-column blocks together.
  int64_t boxesPerTile() const { return bc / boxRows; }
  int64_t boxBytes() const { return boxRows * d * 2; }
  /// Arrivals that complete a stage's K and V `full` barriers: every
  /// producer thread once after its column biases (K only), and with
  /// cp.async every producer thread's copies (noinc arrivals), with TMA
  /// each box's issuer (its expect-tx arrival).
  int64_t fullKArrivals() const { return 128 + (tma ? boxesPerTile() : 128); }
  int64_t fullVArrivals() const { return tma ? boxesPerTile() : 128; }
  /// Warp-specialized consumers software-pipelined (S of tile t with P V of
  /// tile t - 1): with TMA and two consumer warpgroups, where setmaxnreg
  /// gives them the registers (with the launch's 168 they spill, and the
  /// cp.async producer needs more than 40; measured, bench/NOTES-mma.md).
  bool pipelined() const { return ws && tma && br == 128; }
  /// Registers per thread of the roles when pipelined (setmaxnreg): the TMA
  /// producer needs few, the consumers hold S, P and O at once. 128 x 40 +
  /// 256 x 232 fits the SM's 65536.
  int64_t producerRegisters() const { return 40; }
  int64_t consumerRegisters() const { return 232; }
};

/// The most dynamic shared memory a CTA may have on sm_80 and sm_90.
constexpr int64_t kMaxSharedBytes = 227 * 1024;

/// Registers: the software-pipelined warp-specialized kernel splits them
/// between its roles with setmaxnreg (40 for the TMA producer, 232 for the
/// consumers, which hold S, P and O at once). Only a whole-program compile
/// honours setmaxnreg (the driver linker's relocatable compile ignores it,
/// C7504, and the consumers then spill), so the runtime loads such PTX
/// whole (KernelModule). The other warp-specialized kernels (through the
/// token order, or 64-row query blocks) keep the launch's 168 registers
/// for every warp and run their consumers in order.

/// Empty when the template can take `p`; else what it cannot take, with
/// the values, in one line.
std::string unsupported(const AttentionKernelParams &p, const MmaPlan &plan) {
  auto text = [](int64_t v) { return std::to_string(v); };
  if (p.headDim != 64 && p.headDim != 128)
    return "head_dim " + text(p.headDim) + " (allowed: 64, 128)";
  if (p.blockQ != 64 && p.blockQ != 128)
    return "query block " + text(p.blockQ) + " (allowed: 64, 128)";
  if (p.blockK != 16 && p.blockK != 32 && p.blockK != 64 && p.blockK != 128)
    return "key group " + text(p.blockK) + " (allowed: 16, 32, 64, 128)";
  if (plan.bc % 16 != 0 || (plan.bc % plan.n != 0 && plan.n % plan.bc != 0))
    return "key tile " + text(plan.bc) + " with key groups of " + text(plan.n) +
           " (one must divide the other)";
  if (p.stages < 2 || p.bins < 0 || p.bins > 64)
    return "stages " + text(p.stages) + " or tail bins " + text(p.bins) +
           " (stages at least 2, bins 0 to 64)";
  if (p.wgmma && p.warpRows != 0 && p.warpRows != 16)
    return "rows per warp " + text(p.warpRows) +
           " with wgmma (a warpgroup takes 64 rows, 16 per warp)";
  if (p.warpSpecialized && p.wgmma)
    return "wgmma and warp-specialized together (one template or the other)";
  if (plan.ws && p.warpRows != 0 && p.warpRows != 16)
    return "rows per warp " + text(p.warpRows) +
           " with the warp-specialized template (16: a warpgroup per 64 rows)";
  if (plan.bytes() > kMaxSharedBytes)
    return "key tile " + text(plan.bc) + " with " + text(p.stages) +
           " stages: " + text(plan.bytes()) +
           " bytes of shared memory (at most " + text(kMaxSharedBytes) + ")";
  if (plan.warpRows != 16 && plan.warpRows != 32)
    return "rows per warp " + text(plan.warpRows) + " (allowed: 16, 32)";
  if (plan.ws) {
    // Each of the producer's 4 warps stages a quarter of a key tile, one
    // row per lane, and copies it whole rows at a time.
    if (plan.bc > 128 || plan.producerWarpRows() % plan.rowsPerCopy() != 0)
      return "key tile " + text(plan.bc) + " at head_dim " + text(plan.d) +
             " with the warp-specialized template (its 4 load warps take at "
             "most 128 rows, whole rows per copy)";
    return "";
  }
  if (plan.br % plan.warpRows != 0 || plan.threads < plan.bc)
    return "rows per warp " + text(plan.warpRows) + " with query block " +
           text(plan.br) + " and key tile " + text(plan.bc) + ": " +
           text(plan.threads) + " threads cannot load " + text(plan.bc) +
           "-row key tiles";
  if (plan.threads % plan.chunksPerRow() != 0 ||
      plan.bc * plan.chunksPerRow() % plan.threads != 0 ||
      plan.br * plan.chunksPerRow() % plan.threads != 0)
    return "key tile " + text(plan.bc) + " and query block " + text(plan.br) +
           " with " + text(plan.threads) + " threads at head_dim " +
           text(plan.d) + " (the copies do not split evenly)";
  return "";
}

/// The global symbol of dynamic shared memory, declared once per module.
/// Declared by hand (not gpu.dynamic_shared_memory) so that it is aligned to
/// 1024 bytes and cannot overlap other shared variables (TOOLCHAIN trap 7).
constexpr StringLiteral kSharedSymbol = "sattn_dynamic_shared";

void declareDynamicShared(OpBuilder &builder, gpu::GPUModuleOp module) {
  if (SymbolTable::lookupSymbolIn(module, kSharedSymbol))
    return;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(module.getBody());
  auto type = LLVM::LLVMArrayType::get(builder.getI8Type(), 0);
  LLVM::GlobalOp::create(builder, module.getLoc(), type, /*isConstant=*/false,
                         LLVM::Linkage::External, kSharedSymbol, Attribute(),
                         /*alignment=*/1024, /*addrSpace=*/3);
}

class MmaBuilder : public KernelOps {
public:
  MmaBuilder(ImplicitLocOpBuilder &b, const AttentionKernelParams &p,
             const MmaPlan &plan)
      : KernelOps(b), p(p), plan(plan), f32Type(b.getF32Type()),
        i32Type(b.getI32Type()),
        half(p.dtype == DType::BF16 ? Type(b.getBF16Type())
                                    : Type(b.getF16Type())) {
    if (plan.wgmma) {
      Type i64 = b.getI64Type();
      auto ptr = LLVM::LLVMPointerType::get(b.getContext(), 3);
      Value base = LLVM::AddressOfOp::create(b, ptr, kSharedSymbol);
      sharedBase16 = LLVM::LShrOp::create(
          b, LLVM::PtrToIntOp::create(b, i64, base),
          LLVM::ConstantOp::create(b, i64, int64_t(4)));
    }
  }

  /// A 1-D view of dynamic shared memory with element type `element`.
  Value sharedView(Type element) {
    MLIRContext *ctx = b.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx, 3);
    Value base = LLVM::AddressOfOp::create(b, ptr, kSharedSymbol);
    Type i64 = b.getI64Type();
    auto array = LLVM::LLVMArrayType::get(i64, 1);
    auto descriptorType =
        LLVM::LLVMStructType::getLiteral(ctx, {ptr, ptr, i64, array, array});
    Value d = LLVM::PoisonOp::create(b, descriptorType);
    d = LLVM::InsertValueOp::create(b, d, base, ArrayRef<int64_t>{0});
    d = LLVM::InsertValueOp::create(b, d, base, ArrayRef<int64_t>{1});
    d = LLVM::InsertValueOp::create(
        b, d, LLVM::ConstantOp::create(b, i64, int64_t(0)),
        ArrayRef<int64_t>{2});
    d = LLVM::InsertValueOp::create(
        b, d, LLVM::ConstantOp::create(b, i64, plan.bytes()),
        ArrayRef<int64_t>{3, 0});
    d = LLVM::InsertValueOp::create(
        b, d, LLVM::ConstantOp::create(b, i64, int64_t(1)),
        ArrayRef<int64_t>{4, 0});
    auto memrefType = MemRefType::get(
        {ShapedType::kDynamic}, element, MemRefLayoutAttrInterface{},
        gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup));
    return UnrealizedConversionCastOp::create(b, memrefType, d).getResult(0);
  }

  /// A pointer `byteOffset` (index) bytes into dynamic shared memory.
  Value sharedPointer(Value byteOffset) {
    auto ptr = LLVM::LLVMPointerType::get(b.getContext(), 3);
    Value base = LLVM::AddressOfOp::create(b, ptr, kSharedSymbol);
    Value offset =
        arith::IndexCastOp::create(b, b.getI64Type(), byteOffset);
    return LLVM::GEPOp::create(b, ptr, b.getI8Type(), base,
                               ArrayRef<LLVM::GEPArg>{offset});
  }

  /// Four 8x8 matrices of halves from shared memory, as four 32-bit
  /// registers (ldmatrix.x4, optionally transposed).
  SmallVector<Value> ldmatrix4(Value view, Value offset, bool transpose) {
    return ldmatrix(view, offset, half, transpose, 4);
  }

  /// mma.sync m16n8k16: `a` four registers of vector<2 x half>, `bFrag` two,
  /// `c` four f32; returns the four f32 of the result fragment.
  SmallVector<Value> mma(ArrayRef<Value> a, ArrayRef<Value> bFrag,
                         ArrayRef<Value> c) {
    // NVVM takes fp16 operands as vector<2xf16> and bf16 ones as i32.
    bool bf16 = p.dtype == DType::BF16;
    auto operand = [&](Value v) -> Value { return bf16 ? asI32(v) : v; };
    SmallVector<Value> as, bs;
    for (Value v : a)
      as.push_back(operand(v));
    for (Value v : bFrag)
      bs.push_back(operand(v));
    auto resultType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), {f32Type, f32Type, f32Type, f32Type});
    NVVM::MMATypes type = bf16 ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
    Value result = NVVM::MmaOp::create(
        b, resultType, as, bs, c, ArrayRef<int64_t>{16, 8, 16}, std::nullopt,
        std::nullopt, std::array<NVVM::MMATypes, 2>{type, type},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    SmallVector<Value> out;
    for (int64_t i = 0; i < 4; ++i)
      out.push_back(LLVM::ExtractValueOp::create(b, result, i));
    return out;
  }

  /// Where 16-byte chunk `chunk` of row `r` of a tile region of
  /// `regionRows` rows sits, in elements from the region's start (MmaPlan
  /// gives the two layouts).
  Value tileOffset(int64_t regionRows, Value r, Value chunk) {
    if (!plan.wgmma)
      return add(mul(r, index(plan.pitch)), mul(chunk, index(8)));
    Value block = mul(div(chunk, index(8)), index(regionRows * 64));
    Value swizzled = arith::XOrIOp::create(b, rem(chunk, index(8)),
                                           rem(r, index(8)));
    return add(add(block, mul(r, index(64))), mul(swizzled, index(8)));
  }

  /// The bits of a wgmma shared-memory matrix descriptor that do not depend
  /// on the address (PTX "matrix descriptor"): the leading and stride byte
  /// offsets (in 16-byte units, bits 16-29 and 32-45) and the 128-byte
  /// swizzle mode (bits 62-63 = 1). The start address (bits 0-13, in 16-byte
  /// units) is added by descriptor().
  static uint64_t descriptorBits(int64_t leadingBytes, int64_t strideBytes) {
    return (uint64_t(leadingBytes >> 4) << 16) |
           (uint64_t(strideBytes >> 4) << 32) | (uint64_t(1) << 62);
  }

  /// The descriptor of the matrix that starts `byteOffset` bytes into
  /// dynamic shared memory. Shared addresses are below 256 KB, so the start
  /// address (>> 4) fits its 14 bits and adding it never carries into the
  /// offsets.
  Value descriptor(Value byteOffset, uint64_t bits) {
    Type i64 = b.getI64Type();
    Value offset16 =
        arith::IndexCastUIOp::create(b, i64, div(byteOffset, index(16)));
    Value start = arith::AddIOp::create(b, sharedBase16, offset16);
    return arith::AddIOp::create(
        b, start, arith::ConstantIntOp::create(b, i64, int64_t(bits)));
  }

  NVVM::WGMMATypes wgmmaType() const {
    return p.dtype == DType::BF16 ? NVVM::WGMMATypes::bf16
                                  : NVVM::WGMMATypes::f16;
  }
  LLVM::LLVMStructType accumulatorType(int64_t n) {
    return LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(n / 2, f32Type));
  }
  Value packAccumulator(int64_t n, ArrayRef<Value> values) {
    Value acc = LLVM::PoisonOp::create(b, accumulatorType(n));
    for (auto [i, v] : llvm::enumerate(values))
      acc = LLVM::InsertValueOp::create(b, acc, v, ArrayRef<int64_t>{int64_t(i)});
    return acc;
  }
  SmallVector<Value> unpackAccumulator(int64_t n, Value acc) {
    SmallVector<Value> values;
    for (int64_t i = 0; i < n / 2; ++i)
      values.push_back(LLVM::ExtractValueOp::create(b, acc, i));
    return values;
  }

  /// wgmma m64nNk16, A and B from shared memory (both K-major), f32
  /// accumulators: returns acc + A B, or A B when `acc` is null.
  Value wgmmaShared(Value descA, Value descB, int64_t n, Value acc) {
    bool zero = !acc;
    if (zero)
      acc = LLVM::PoisonOp::create(b, accumulatorType(n));
    return NVVM::WgmmaMmaAsyncOp::create(
        b, accumulatorType(n), acc, descA, descB,
        NVVM::MMAShapeAttr::get(b.getContext(), 64, n, 16), wgmmaType(),
        wgmmaType(), NVVM::WGMMATypes::f32,
        zero ? NVVM::WGMMAScaleOut::zero : NVVM::WGMMAScaleOut::one,
        NVVM::WGMMAScaleIn::one, NVVM::WGMMAScaleIn::one,
        NVVM::MMALayout::row, NVVM::MMALayout::col, nullptr);
  }

  /// wgmma m64nNk16 with A in registers (this thread's four 32-bit registers
  /// of the m16k16 A fragment, as mma.sync lays it out, as i32) and B from shared
  /// memory, MN-major (transposed): acc + A B. NVVM's op takes A from shared
  /// memory only, hence the inline PTX.
  Value wgmmaRegisterA(ArrayRef<Value> a, Value descB, int64_t n, Value acc) {
    int64_t outs = n / 2;
    std::string type = p.dtype == DType::BF16 ? "bf16" : "f16";
    // scale-d is a predicate: always 1 (accumulate), set inside the asm so
    // that no register of the window is defined by another instruction.
    std::string text = "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;"
                       "\nwgmma.mma_async.sync.aligned.m64n" +
                       std::to_string(n) + "k16.f32." + type + "." + type +
                       " {";
    std::string constraints;
    for (int64_t i = 0; i < outs; ++i) {
      text += (i ? ", $" : "$") + std::to_string(i);
      constraints += "=f,";
    }
    text += "}, {$" + std::to_string(outs) + ", $" + std::to_string(outs + 1) +
            ", $" + std::to_string(outs + 2) + ", $" +
            std::to_string(outs + 3) + "}, $" + std::to_string(outs + 4) +
            ", p, 1, 1, 1;\n}";
    constraints += "r,r,r,r,l";
    SmallVector<Value> operands(a.begin(), a.end());
    operands.push_back(descB);
    for (int64_t i = 0; i < outs; ++i) {
      constraints += "," + std::to_string(i);
      operands.push_back(LLVM::ExtractValueOp::create(b, acc, i));
    }
    return LLVM::InlineAsmOp::create(
               b, accumulatorType(n), operands, text, constraints,
               /*has_side_effects=*/true, /*is_align_stack=*/false,
               LLVM::tailcallkind::TailCallKind::None,
               LLVM::AsmDialectAttr::get(b.getContext(),
                                         LLVM::AsmDialect::AD_ATT),
               ArrayAttr())
        .getResult(0);
  }

  /// `v` through an empty volatile asm: the value is the same, but it is now
  /// defined by an instruction LLVM keeps in program order with the other
  /// side-effecting ones. Pins wgmma operands before wgmma.fence (ptxas
  /// serializes every wgmma when a non-wgmma instruction defines an input
  /// register inside the fence..commit window, warning C7513) and results
  /// after wgmma.wait_group (so that no use is scheduled above the wait).
  Value pin(Value v) {
    Type type = v.getType();
    const char *constraint = type.isF32()      ? "=f,0"
                             : type.isInteger(64) ? "=l,0"
                                                  : "=r,0";
    return LLVM::InlineAsmOp::create(
               b, type, ValueRange{v}, "", constraint,
               /*has_side_effects=*/true, /*is_align_stack=*/false,
               LLVM::tailcallkind::TailCallKind::None,
               LLVM::AsmDialectAttr::get(b.getContext(),
                                         LLVM::AsmDialect::AD_ATT),
               ArrayAttr())
        .getResult(0);
  }
  SmallVector<Value> pin(ArrayRef<Value> values) {
    SmallVector<Value> out;
    for (Value v : values)
      out.push_back(pin(v));
    return out;
  }

  /// A vector<2 x half> register as the i32 that carries it.
  Value asI32(Value v) {
    Value asInt = vector::BitCastOp::create(b, VectorType::get({1}, i32Type), v);
    return vector::ExtractOp::create(b, asInt, ArrayRef<int64_t>{0});
  }

  /// Two f32 as one vector<2 x half> register.
  Value pack(Value lo, Value hi) {
    auto pair = VectorType::get({2}, f32Type);
    Value v = vector::FromElementsOp::create(b, pair, ValueRange{lo, hi});
    return arith::TruncFOp::create(b, VectorType::get({2}, half), v);
  }

  Value shuffleXor(Value v, int32_t offset) {
    return gpu::ShuffleOp::create(b, v, offset, /*width=*/32,
                                  gpu::ShuffleMode::XOR)
        .getShuffleResult();
  }
  Value maxf(Value x, Value y) { return arith::MaximumFOp::create(b, x, y); }
  Value addf(Value x, Value y) { return arith::AddFOp::create(b, x, y); }
  Value mulf(Value x, Value y) { return arith::MulFOp::create(b, x, y); }
  Value subf(Value x, Value y) { return arith::SubFOp::create(b, x, y); }

  const AttentionKernelParams &p;
  const MmaPlan &plan;
  Type f32Type, i32Type, half;
  /// wgmma: the start of dynamic shared memory >> 4 (i64).
  Value sharedBase16;
};

/// The loop-carried state of the online softmax for one warp's rows, as one
/// thread holds it: the running max and (thread-partial) sum of its rows
/// (two per m16 tile: quad row and quad row + 8), and its fragments of O
/// (per m16 tile, head_dim / 8 n8 tiles of four f32).
struct State {
  SmallVector<Value> max, sum;
  SmallVector<SmallVector<SmallVector<Value>>> out; // [m tile][n tile][4]

  SmallVector<Value> flatten() const {
    SmallVector<Value> values(max);
    values.append(sum.begin(), sum.end());
    for (const auto &mTile : out)
      for (const auto &tile : mTile)
        values.append(tile.begin(), tile.end());
    return values;
  }
  static State unflatten(ValueRange values, int64_t mTiles, int64_t nTiles) {
    State s;
    auto it = values.begin();
    s.max.assign(it, it + 2 * mTiles);
    it += 2 * mTiles;
    s.sum.assign(it, it + 2 * mTiles);
    it += 2 * mTiles;
    for (int64_t m = 0; m < mTiles; ++m) {
      s.out.emplace_back();
      for (int64_t t = 0; t < nTiles; ++t, it += 4)
        s.out.back().push_back(SmallVector<Value>(it, it + 4));
    }
    return s;
  }
};

} // namespace

std::string sparseAttentionMmaProblem(const AttentionKernelParams &p) {
  return unsupported(p, MmaPlan(p));
}

std::string sparseAttentionMmaImplementation(const AttentionKernelParams &p) {
  MmaPlan plan(p);
  std::string text = std::string(p.warpSpecialized ? "wgmma-ws"
                                 : p.wgmma         ? "wgmma"
                                                   : "mma") +
                     " key_tile=" + std::to_string(plan.bc) +
                     " stages=" + std::to_string(plan.stages);
  if (!plan.wgmma)
    text += " warp_rows=" + std::to_string(plan.warpRows);
  if (p.tokenOrder)
    text += " token_order";
  if (p.persistent)
    text += " persistent";
  return text;
}

int64_t sparseAttentionMmaSharedBytes(const AttentionKernelParams &p) {
  return MmaPlan(p).bytes();
}

gpu::GPUFuncOp buildSparseAttentionMma(OpBuilder &builder,
                                       gpu::GPUModuleOp module,
                                       const AttentionKernelParams &p) {
  MmaPlan plan(p);
  if (std::string problem = unsupported(p, plan); !problem.empty())
    llvm::report_fatal_error("sattn mma.sync template: unsupported " +
                             llvm::Twine(problem) +
                             " (sparseAttentionMmaProblem says so first)");
  MLIRContext *ctx = builder.getContext();
  declareDynamicShared(builder, module);
  std::vector<KernelParam> params = sparseAttentionParams(ctx, p);
  gpu::GPUFuncOp func = createKernel(builder, module, p.name, params,
                                     {int32_t(plan.threads), 1, 1});
  // One CTA per SM: the register cap at entry is the block's share (65536
  // / 384 -> 168).
  if (plan.ws)
    func->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                  builder.getI32IntegerAttr(1));
  Block &entry = func.getBody().front();
  auto arg = [&](StringRef name, int64_t dim = -1) {
    return entry.getArgument(paramIndex(params, name, dim));
  };

  ImplicitLocOpBuilder b(func.getLoc(), builder);
  b.setInsertionPointToStart(&entry);
  MmaBuilder m(b, p, plan);
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  Value negInf = m.f32(-INFINITY), zeroF = m.f32(0);
  int64_t dTiles = p.headDim / 8, mTiles = plan.mTiles;

  AttentionEntry e = readAttentionEntry(m, p, arg);
  Value seqLen = e.seqLen, scaleLog2 = e.scaleLog2, thread = e.thread;
  // The work item's values (useItem sets them; a persistent kernel once per
  // item it takes): its list length, first token, list row, (batch, head),
  // tensors at that (batch, head), and its number of key tiles.
  Value count, blockStart, row, batchHead, numTiles;
  AttentionEntry::Tensor q, k, v, o;
  // Fragment coordinates: a quad of 4 threads shares a row.
  Value quadRow = m.div(e.lane, m.index(4));  // 0..7
  Value quadCol = m.rem(e.lane, m.index(4));  // 0..3
  Value ldRow = m.rem(e.lane, m.index(8));    // ldmatrix: row within a matrix
  Value ldMatrix = m.div(e.lane, m.index(8)); // ldmatrix: which of the four
  Value ldMatrixLow = m.rem(ldMatrix, m.index(2));
  Value ldMatrixHigh = m.div(ldMatrix, m.index(2));

  // Shared memory written by this thread (cp.async or stores) and read next
  // by wgmma, which goes through the async proxy: each writer fences before
  // the barrier that publishes the tile.
  auto fenceForTensorCores = [&] {
    NVVM::FenceProxyOp::create(
        b, NVVM::ProxyKind::async_shared,
        NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
  };

  // A consumer past a stage's `full` barrier, before wgmma reads the stage:
  // cp.async wrote it through the generic proxy and its completion arrives
  // on the barrier, after which no writer can fence, so the reader does.
  // TMA writes through the async proxy that wgmma reads through, and the
  // barrier's completion orders them: nothing to do (FlashAttention-3 has
  // no fence there either; H100 2026-12-07: 0.3-1 % faster without). The
  // tail bins' stage, written with ordinary stores, is fenced by its writer.
  auto afterStageWait = [&] {
    if (!plan.tma)
      fenceForTensorCores();
  };

  // Emits `body` under `if (cond)` at the insertion point, and under
  // `if (x == v)` (x an index).
  auto when = [&](Value cond, llvm::function_ref<void()> body) {
    auto ifOp = scf::IfOp::create(b, cond, false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    body();
  };
  auto whenEqual = [&](Value x, int64_t v, llvm::function_ref<void()> body) {
    when(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, x, m.index(v)),
         body);
  };

  Value halves = m.sharedView(m.half);
  Value biases = m.sharedView(f32);
  Value ids = m.sharedView(i32);

  // --- Q: once into shared memory. ----------------------------------------
  // A thread copies the same 16-byte column chunk of rows r0, r0 + T/chunks,
  // ...: one division for the whole kernel, constant offsets after that.
  int64_t chunks = plan.chunksPerRow();
  int64_t rowStep = plan.threads / chunks;
  Value firstRow = m.div(thread, m.index(chunks));
  Value chunk = m.rem(thread, m.index(chunks));
  Value chunkCol = m.mul(chunk, m.index(8));
  // Rows [first, first + rowCount) of the query block, by `threads` threads
  // of which this is `local`.
  auto loadQ = [&](Value local, int64_t threads, Value first,
                   int64_t rowCount) {
    Value localChunk = m.rem(local, m.index(chunks));
    Value localCol = m.mul(localChunk, m.index(8));
    Value localRow = m.add(first, m.div(local, m.index(chunks)));
    for (int64_t it = 0; it < rowCount * chunks / threads; ++it) {
      Value r = m.add(localRow, m.index(it * (threads / chunks)));
      Value token = m.add(blockStart, r);
      Value valid = m.ult(token, seqLen);
      Value tokenC = m.select(valid, token, m.index(0));
      Value src = m.add(
          m.add(q.base, m.mul(e.rowOf(m, tokenC), q.tokenStride)), localCol);
      Value dst = m.tileOffset(plan.br, r, localChunk);
      m.copy16(halves, dst, q.view, src, valid);
    }
    NVVM::CpAsyncCommitGroupOp::create(b);
  };
  // The warp's index among those that own query rows: the warp-specialized
  // kernel's consumers start at warp 4.
  Value rowWarp = plan.ws ? m.sub(e.warp, m.index(4)) : e.warp;
  Value warpRow = m.mul(rowWarp, m.index(plan.warpRows));
  // The A fragment of m tile `mt`, k16 step `kk`, from Q in shared memory.
  // Matrices: rows 0-7 / 8-15 (bit 0) x columns 0-7 / 8-15 (bit 1).
  Value qLane =
      m.add(m.mul(m.add(warpRow, m.add(ldRow, m.mul(ldMatrixLow, m.index(8)))),
                  m.index(plan.pitch)),
            m.mul(ldMatrixHigh, m.index(8)));
  auto qFragment = [&](int64_t mt, int64_t kk) {
    return m.ldmatrix4(
        halves, m.add(qLane, m.index(16 * mt * plan.pitch + 16 * kk)), false);
  };

  // wgmma descriptors (MmaPlan's swizzled layout): Q and K are K-major (8-row
  // atoms 1024 bytes apart; the leading offset is unused with a swizzle
  // inside one 64-column block, which a k16 step never leaves), V is read
  // MN-major: its 64-column blocks are a region of rows x 128 bytes apart.
  // A warpgroup's Q rows start 64 rows (8 KB per column block) further on.
  uint64_t qDescriptorBits = MmaBuilder::descriptorBits(16, 1024);
  uint64_t kDescriptorBits = MmaBuilder::descriptorBits(16, 1024);
  uint64_t vDescriptorBits = MmaBuilder::descriptorBits(plan.rows * 128, 1024);
  Value qWarpgroupBytes =
      plan.wgmma ? m.mul(m.div(rowWarp, m.index(4)), m.index(64 * 128))
                 : Value();

  // --- Key tiles. ----------------------------------------------------------
  // Tile t covers list slots [t*(Bc/N), ...) when N < Bc, or part
  // t % (N/Bc) of slot t / (N/Bc) when N >= Bc.
  bool gather = plan.n < plan.bc;
  int64_t groupsPerTile = gather ? plan.bc / plan.n : 1;
  int64_t tilesPerGroup = gather ? 1 : plan.n / plan.bc;
  auto useItem = [&] {
    count = e.count;
    blockStart = e.blockStart;
    row = e.row;
    batchHead = e.batchHead;
    q = e.q;
    k = e.k;
    v = e.v;
    o = e.out;
    numTiles = gather ? m.div(m.add(count, m.index(groupsPerTile - 1)),
                              m.index(groupsPerTile))
                      : m.mul(count, m.index(tilesPerGroup));
  };
  if (!p.persistent)
    useItem();
  Value minusOne = m.i32(-1);

  // The group index of row `tileRow` of tile `tile` (-1: no group), loaded
  // from global memory; rows past the tile's get -1.
  auto fetchGroup = [&](Value tile, Value tileRow) {
    Value slot = gather ? m.add(m.mul(tile, m.index(groupsPerTile)),
                                m.div(tileRow, m.index(plan.n)))
                        : m.div(tile, m.index(tilesPerGroup));
    Value valid = arith::AndIOp::create(
        b, m.ult(tileRow, m.index(plan.bc)),
        arith::AndIOp::create(b, m.ult(tile, numTiles), m.ult(slot, count)));
    auto ifValid = scf::IfOp::create(b, TypeRange{i32}, valid, true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifValid.getThenRegion().front());
      scf::YieldOp::create(b, ValueRange{e.groupAt(m, slot)});
      b.setInsertionPointToStart(&ifValid.getElseRegion().front());
      scf::YieldOp::create(b, ValueRange{minusOne});
    }
    return ifValid.getResult(0);
  };
  // The row of k and v (i32; -1: none) that row `tileRow` of tile `tile`
  // takes, given its group from fetchGroup: the key's position in the
  // reordered sequence, or, reading through the token order, that
  // position's entry of the table (a global load: tokenOrder kernels fetch
  // groups a tile earlier, so that this load, too, is in flight during a
  // tile's math).
  auto keyRow = [&](Value group, Value tile, Value tileRow) {
    Value hasGroup =
        arith::CmpIOp::create(b, arith::CmpIPredicate::sge, group, m.i32(0));
    Value inGroup =
        gather ? m.rem(tileRow, m.index(plan.n))
               : m.add(m.mul(m.rem(tile, m.index(tilesPerGroup)),
                             m.index(plan.bc)),
                       tileRow);
    Value key = m.add(m.mul(m.toIndex(m.select(hasGroup, group, m.i32(0))),
                            m.index(plan.n)),
                      inGroup);
    Value valid = arith::AndIOp::create(b, hasGroup, m.ult(key, seqLen));
    Value rowIndex = e.rowOf(m, m.select(valid, key, m.index(0)));
    return m.select(valid, arith::IndexCastOp::create(b, i32, rowIndex),
                    minusOne);
  };
  auto stageIndex = [&](Value tile) {
    return m.rem(tile, m.index(plan.stages));
  };
  // Stages row `thread`'s K/V row (from keyRow) for buffer `stage`.
  auto stageRow = [&](Value stage, Value keyRowI32) {
    auto ifRow = scf::IfOp::create(b, m.ult(thread, m.index(plan.bc)), false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifRow.getThenRegion().front());
    memref::StoreOp::create(
        b, keyRowI32, ids,
        ValueRange{m.add(
            m.add(m.index(plan.idsOffset(0)), m.mul(stage, m.index(plan.bc))),
            thread)});
  };

  // Where buffer `stage` keeps its K rows, V rows and column biases.
  struct StageBases {
    Value k, v, bias;
  };
  auto stageBases = [&](Value stage) {
    Value halvesStride = m.index(plan.rows * plan.pitch);
    return StageBases{
        m.add(m.index(plan.kOffset(0)), m.mul(stage, halvesStride)),
        m.add(m.index(plan.vOffset(0)), m.mul(stage, halvesStride)),
        m.add(m.index(plan.biasOffset(0)), m.mul(stage, m.index(plan.rows)))};
  };

  // Row `r` of tile `tile` in buffer `stage`: its column bias (0, or -inf
  // when `valid` is false) and, for an invalid row, the stage's mark that
  // the tile needs the masked path.
  auto markRow = [&](Value valid, Value biasBase, Value r, Value tile,
                     Value stage) {
    memref::StoreOp::create(b, m.select(valid, zeroF, negInf), biases,
                            ValueRange{m.add(biasBase, r)});
    when(arith::XOrIOp::create(b, valid, arith::ConstantIntOp::create(b, 1, 1)),
         [&] {
           memref::StoreOp::create(
               b, arith::IndexCastOp::create(b, i32, tile), ids,
               ValueRange{m.add(m.index(plan.maskedTileOffset(0)), stage)});
         });
  };

  // cp.async of tile `tile` into buffer `stage`, from its staged rows.
  auto issueTile = [&](Value tile, Value stage) {
    auto [kBase, vBase, biasBase] = stageBases(stage);
    Value idsBase =
        m.add(m.index(plan.idsOffset(0)), m.mul(stage, m.index(plan.bc)));
    for (int64_t it = 0; it < plan.copiesPerThread(); ++it) {
      Value r = m.add(firstRow, m.index(it * rowStep));
      Value keyRowI32 =
          memref::LoadOp::create(b, ids, ValueRange{m.add(idsBase, r)});
      Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::sge,
                                          keyRowI32, m.i32(0));
      Value keyC = m.toIndex(m.select(valid, keyRowI32, m.i32(0)));
      Value dst = m.tileOffset(plan.rows, r, chunk);
      m.copy16(halves, m.add(kBase, dst), k.view,
               m.add(m.add(k.base, m.mul(keyC, k.tokenStride)), chunkCol),
               valid);
      m.copy16(halves, m.add(vBase, dst), v.view,
               m.add(m.add(v.base, m.mul(keyC, v.tokenStride)), chunkCol),
               valid);
      // One thread per row writes the row's column bias and mark.
      whenEqual(chunk, 0, [&] { markRow(valid, biasBase, r, tile, stage); });
    }
  };

  using Scores = SmallVector<SmallVector<SmallVector<Value>>>; // [mt][j][4]

  // S = Q K^T on wgmma, issued and committed, not waited for: one
  // warpgroup's 64 rows against the tile's keys, head_dim / 16 k16 steps.
  // The accumulator's layout per warp is mma.sync's (n8 tile j in registers
  // 4j..4j+3), so the softmax serves both templates.
  //
  // ptxas keeps wgmma asynchronous only if no other instruction defines a
  // register that any wgmma reads between the first wgmma of a group and
  // the wait for it (else it serializes them all, warning C7513). So every
  // operand of a group (descriptors, P, O) is made and pinned first, then
  // one fence, the wgmma, the commit and the wait; the results are pinned
  // after the wait, so that no use is scheduled above it.
  //
  // S = Q K^T on wgmma: one warpgroup's 64 rows against the tile's keys,
  // head_dim / 16 k16 steps, A (Q) and B (K) from shared memory. The
  // accumulator's layout per warp is mma.sync's (n8 tile j in registers
  // 4j..4j+3), so the softmax serves both templates.
  // Warp-specialized consumers take turns issuing their products: wait for
  // the turn before the fence, pass it after the commit (empty otherwise).
  // `after` (f32, may be null): a value the wait must not be scheduled
  // above (ptxas moves arithmetic across bar.sync freely, and hoisted the
  // turn of P V above the softmax that makes P).
  std::function<void(Value after)> awaitTurn = [](Value) {};
  std::function<void()> passTurn = [] {};
  // The pinned Q and K descriptors of the head_dim / 16 k16 steps of S =
  // Q K^T against the K tile at `kBase` (elements).
  auto scoreDescriptors = [&](Value kBase) {
    Value kBytes = m.mul(kBase, m.index(2));
    SmallVector<Value> descQ, descK;
    for (int64_t kk = 0; kk < p.headDim / 16; ++kk) {
      // Column block kk / 4 (regions of R rows x 128 bytes), 32 bytes per
      // k16 step inside it.
      auto kStep = [&](int64_t regionRows) {
        return m.index((kk / 4) * regionRows * 128 + (kk % 4) * 32);
      };
      descQ.push_back(m.pin(m.descriptor(
          m.add(qWarpgroupBytes, kStep(plan.br)), qDescriptorBits)));
      descK.push_back(m.pin(
          m.descriptor(m.add(kBytes, kStep(plan.rows)), kDescriptorBits)));
    }
    return std::pair(descQ, descK);
  };
  // Issues S = Q K^T (after wgmma.fence); returns the accumulator.
  auto issueScores = [&](ArrayRef<Value> descQ, ArrayRef<Value> descK,
                         int64_t columns) {
    Value acc;
    for (int64_t kk = 0; kk < p.headDim / 16; ++kk)
      acc = m.wgmmaShared(descQ[kk], descK[kk], columns, acc);
    return acc;
  };
  auto scoresOf = [&](Value acc, int64_t columns) {
    SmallVector<Value> values = m.pin(m.unpackAccumulator(columns, acc));
    Scores scores(1);
    for (int64_t j = 0; j < columns / 8; ++j)
      scores[0].emplace_back(values.begin() + 4 * j,
                             values.begin() + 4 * j + 4);
    return scores;
  };
  auto scoresWgmma = [&](Value kBase, int64_t columns) {
    auto [descQ, descK] = scoreDescriptors(kBase);
    awaitTurn(Value());
    NVVM::WgmmaFenceAlignedOp::create(b);
    Value acc = issueScores(descQ, descK, columns);
    NVVM::WgmmaGroupSyncAlignedOp::create(b);
    passTurn();
    NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
    return scoresOf(acc, columns);
  };

  // S = Q K^T on mma.sync: n8 tile j covers keys [8j, 8j + 8); one
  // ldmatrix.x4 of K rows gives the B fragments of two k16 steps, used by
  // every m tile.
  auto scoresMma = [&](Value kBase, int64_t columns) {
    int64_t nTiles = columns / 8;
    Value kLane =
        m.add(m.mul(ldRow, m.index(plan.pitch)), m.mul(ldMatrix, m.index(8)));
    Scores scores(mTiles, SmallVector<SmallVector<Value>>(
                              nTiles, SmallVector<Value>(4, zeroF)));
    for (int64_t kk = 0; kk < p.headDim / 16; kk += 2) {
      SmallVector<SmallVector<Value>> qa[2];
      for (int64_t mt = 0; mt < mTiles; ++mt)
        for (int64_t step = 0; step < 2; ++step)
          qa[step].push_back(qFragment(mt, kk + step));
      for (int64_t j = 0; j < nTiles; ++j) {
        Value offset =
            m.add(m.add(kBase, kLane), m.index(8 * j * plan.pitch + 16 * kk));
        SmallVector<Value> frag = m.ldmatrix4(halves, offset, false);
        for (int64_t mt = 0; mt < mTiles; ++mt) {
          scores[mt][j] = m.mma(qa[0][mt], {frag[0], frag[1]}, scores[mt][j]);
          scores[mt][j] = m.mma(qa[1][mt], {frag[2], frag[3]}, scores[mt][j]);
        }
      }
    }
    return scores;
  };

  // Online softmax in base 2 on the fragments: thread element (j, e) of m
  // tile mt is row 16 mt + quadRow + 8 (e / 2), column 8j + 2 quadCol + e %
  // 2. Turns the scores into P, updates the running max and sum of `s`, and
  // returns each row's correction of O (applied by rescale). `masked`: add
  // the column biases (some keys invalid, or tail bins); without, the scale
  // and the running max fold into one FMA per logit. Biases are re-read from
  // shared memory at each use rather than held: the masked path must not
  // need more registers than the fast one.
  auto softmax = [&](Scores &scores, State &s, Value biasBase, bool masked) {
    int64_t nTiles = scores[0].size();
    Value biasLane = m.add(biasBase, m.mul(quadCol, m.index(2)));
    auto bias = [&](int64_t j, int64_t e) -> Value {
      return memref::LoadOp::create(
          b, biases, ValueRange{m.add(biasLane, m.index(8 * j + e))});
    };
    SmallVector<Value> corrections;
    for (int64_t mt = 0; mt < mTiles; ++mt)
      for (int64_t half = 0; half < 2; ++half) {
        int64_t r = 2 * mt + half;
        Value rowMax = negInf;
        for (int64_t j = 0; j < nTiles; ++j)
          for (int64_t e = 0; e < 2; ++e) {
            Value &x = scores[mt][j][2 * half + e];
            if (masked)
              x = m.addf(m.mulf(x, scaleLog2), bias(j, e));
            rowMax = m.maxf(rowMax, x);
          }
        rowMax = m.maxf(rowMax, m.shuffleXor(rowMax, 1));
        rowMax = m.maxf(rowMax, m.shuffleXor(rowMax, 2));
        // Unmasked logits are scaled inside the exponent below; the scale
        // is positive, so the max of the scaled row is the scaled max.
        if (!masked)
          rowMax = m.mulf(rowMax, scaleLog2);
        Value newMax = m.maxf(s.max[r], rowMax);
        // A row with every key masked so far keeps max -inf; exponentiate
        // against 0 then, so that no -inf - -inf NaN appears.
        Value isInf =
            arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, newMax, negInf);
        Value safeMax = m.select(isInf, zeroF, newMax);
        Value correction = m.exp2(m.subf(s.max[r], safeMax));
        Value negMax = arith::NegFOp::create(b, safeMax);
        Value rowSum = zeroF;
        for (int64_t j = 0; j < nTiles; ++j)
          for (int64_t e = 0; e < 2; ++e) {
            Value &x = scores[mt][j][2 * half + e];
            x = masked ? m.exp2(m.subf(x, safeMax))
                       : m.exp2(math::FmaOp::create(b, x, scaleLog2, negMax));
            rowSum = m.addf(rowSum, x);
          }
        s.max[r] = newMax;
        s.sum[r] = m.addf(m.mulf(s.sum[r], correction), rowSum);
        corrections.push_back(correction);
      }
    return corrections;
  };
  auto rescale = [&](State &s, ArrayRef<Value> corrections) {
    for (int64_t mt = 0; mt < mTiles; ++mt)
      for (int64_t half = 0; half < 2; ++half)
        for (auto &tile : s.out[mt])
          for (int64_t e = 0; e < 2; ++e)
            tile[2 * half + e] =
                m.mulf(tile[2 * half + e], corrections[2 * mt + half]);
  };

  // P in halves as A fragments: the C fragments of n8 tiles 2kk and 2kk + 1
  // are the A fragment of k16 step kk (four registers of two halves).
  auto packStep = [&](const Scores &scores, int64_t mt,
                      int64_t kk) -> SmallVector<Value> {
    auto &sc = scores[mt];
    return {m.pack(sc[2 * kk][0], sc[2 * kk][1]),
            m.pack(sc[2 * kk][2], sc[2 * kk][3]),
            m.pack(sc[2 * kk + 1][0], sc[2 * kk + 1][1]),
            m.pack(sc[2 * kk + 1][2], sc[2 * kk + 1][3])};
  };
  // O += P V on wgmma: P from registers (this thread's A fragments, as i32),
  // V from shared memory read MN-major (transposed): key rows are the K
  // dimension, head_dim the N one.
  // P as the A operands of P V, one group of four i32 per k16 step.
  auto packedP = [&](const Scores &scores) {
    int64_t steps = int64_t(scores[0].size()) / 2;
    SmallVector<SmallVector<Value>> packed(steps);
    for (int64_t kk = 0; kk < steps; ++kk)
      for (Value regs : packStep(scores, 0, kk))
        packed[kk].push_back(m.asI32(regs));
    return packed;
  };
  // The pinned V descriptors of `steps` k16 steps from the V tile at
  // `vBase` (elements).
  auto valueDescriptors = [&](Value vBase, int64_t steps) {
    Value vBytes = m.mul(vBase, m.index(2));
    SmallVector<Value> descV;
    for (int64_t kk = 0; kk < steps; ++kk)
      descV.push_back(m.pin(m.descriptor(
          m.add(vBytes, m.index(kk * 16 * 128)), vDescriptorBits)));
    return descV;
  };
  auto pinnedOutput = [&](const State &s) {
    SmallVector<Value> flat;
    for (auto &tile : s.out[0])
      flat.append(tile.begin(), tile.end());
    return m.packAccumulator(p.headDim, m.pin(flat));
  };
  // Issues O += P V (after wgmma.fence); returns the accumulator.
  auto issueOutput = [&](ArrayRef<SmallVector<Value>> a,
                         ArrayRef<Value> descV, Value acc) {
    for (auto [kk, regs] : llvm::enumerate(a))
      acc = m.wgmmaRegisterA(regs, descV[kk], p.headDim, acc);
    return acc;
  };
  auto setOutput = [&](State &s, Value acc) {
    SmallVector<Value> values = m.pin(m.unpackAccumulator(p.headDim, acc));
    for (int64_t nt = 0; nt < dTiles; ++nt)
      s.out[0][nt].assign(values.begin() + 4 * nt, values.begin() + 4 * nt + 4);
  };
  // O += P V for the pinned P operands `a` and the V tile at `vBase`, on
  // this warpgroup's turn, waited for.
  auto productOutput = [&](ArrayRef<SmallVector<Value>> a, Value vBase,
                           State &s) {
    SmallVector<Value> descV = valueDescriptors(vBase, a.size());
    Value acc = pinnedOutput(s);
    // The row sums depend on every exponential of the softmax.
    awaitTurn(m.addf(s.sum[0], s.sum[1]));
    NVVM::WgmmaFenceAlignedOp::create(b);
    acc = issueOutput(a, descV, acc);
    NVVM::WgmmaGroupSyncAlignedOp::create(b);
    passTurn();
    NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
    setOutput(s, acc);
  };
  auto outputWgmma = [&](const Scores &scores, Value vBase, State &s) {
    SmallVector<SmallVector<Value>> a;
    for (auto &regs : packedP(scores))
      a.push_back(m.pin(regs));
    productOutput(a, vBase, s);
  };

  // Between the softmax and P V (the warp-specialized kernel's V barrier of
  // the stage; nothing otherwise).
  std::function<void(Value stage)> beforeOutput = [](Value) {};
  // One tile of `columns` keys from buffer `stage` folded into the state,
  // each product waited for (the mma.sync loop and the tail bins).
  auto computeTile = [&](Value stage, int64_t columns, State s, bool masked) {
    auto [kBase, vBase, biasBase] = stageBases(stage);
    Scores scores =
        plan.wgmma ? scoresWgmma(kBase, columns) : scoresMma(kBase, columns);
    State next = s;
    rescale(next, softmax(scores, next, biasBase, masked));
    if (plan.wgmma) {
      beforeOutput(stage);
      outputWgmma(scores, vBase, next);
      return next;
    }
    // O += P V: one ldmatrix.x4.trans of V rows gives the B fragments of two
    // n8 tiles of head_dim, used by every m tile.
    Value vLane = m.add(m.mul(m.add(ldRow, m.mul(ldMatrixLow, m.index(8))),
                              m.index(plan.pitch)),
                        m.mul(ldMatrixHigh, m.index(8)));
    for (int64_t kk = 0; kk < columns / 16; ++kk) {
      SmallVector<SmallVector<Value>> a;
      for (int64_t mt = 0; mt < mTiles; ++mt)
        a.push_back(packStep(scores, mt, kk));
      for (int64_t nt = 0; nt < dTiles; nt += 2) {
        Value offset =
            m.add(m.add(vBase, vLane), m.index(16 * kk * plan.pitch + 8 * nt));
        SmallVector<Value> frag = m.ldmatrix4(halves, offset, true);
        for (int64_t mt = 0; mt < mTiles; ++mt) {
          next.out[mt][nt] =
              m.mma(a[mt], {frag[0], frag[1]}, next.out[mt][nt]);
          next.out[mt][nt + 1] =
              m.mma(a[mt], {frag[2], frag[3]}, next.out[mt][nt + 1]);
        }
      }
    }
    return next;
  };

  State init;
  init.max.assign(2 * mTiles, negInf);
  init.sum.assign(2 * mTiles, zeroF);
  init.out.assign(mTiles, SmallVector<SmallVector<Value>>(
                              dTiles, SmallVector<Value>(4, zeroF)));

  // Tile `tile` from buffer `stage` folded into `s`: the masked path if the
  // tile had an invalid row (its loader marked the stage), else the fast one.
  auto foldTile = [&](Value stage, Value tile, const State &s) {
    Value lastMasked = memref::LoadOp::create(
        b, ids, ValueRange{m.add(m.index(plan.maskedTileOffset(0)), stage)});
    Value isMasked =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lastMasked,
                              arith::IndexCastOp::create(b, i32, tile));
    SmallVector<Type> stateTypes(s.flatten().size(), f32);
    auto ifMasked = scf::IfOp::create(b, stateTypes, isMasked, true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifMasked.getThenRegion().front());
    scf::YieldOp::create(b, computeTile(stage, plan.bc, s, true).flatten());
    b.setInsertionPointToStart(&ifMasked.getElseRegion().front());
    scf::YieldOp::create(b, computeTile(stage, plan.bc, s, false).flatten());
    return State::unflatten(ifMasked.getResults(), mTiles, dTiles);
  };

  // The tail bins' tile in buffer `stage`, written by `threads` threads of
  // which this is `local`: their mean keys and values (f32 in global memory)
  // rounded into the K/V rows, log2(n_b) as the column biases; rows past
  // `bins` (and all rows on a dense step) are zeros with bias -inf.
  auto writeTailTile = [&](Value stage, Value local, int64_t threads) {
    auto [kBase, vBase, biasBase] = stageBases(stage);
    Value tailKeys = globalView(b, arg("tail_keys"), f32);
    Value tailValues = globalView(b, arg("tail_values"), f32);
    Value tailLogCounts = globalView(b, arg("tail_log_counts"), f32);
    Value binBase = m.mul(row, m.index(p.bins));
    // Every thread converts whole f32 pairs.
    int64_t pairs = plan.binsPad * p.headDim / 2;
    for (int64_t it = 0; it < (pairs + threads - 1) / threads; ++it) {
      Value pair = m.add(local, m.index(it * threads));
      Value r = m.div(pair, m.index(p.headDim / 2));
      Value col = m.mul(m.rem(pair, m.index(p.headDim / 2)), m.index(2));
      Value inTile = m.ult(pair, m.index(pairs));
      auto ifInTile = scf::IfOp::create(b, inTile, false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifInTile.getThenRegion().front());
      Value isBin = arith::AndIOp::create(
          b, m.ult(r, m.index(p.bins)),
          arith::XOrIOp::create(b, e.dense,
                                arith::ConstantOp::create(
                                    b, b.getBoolAttr(true))));
      Value rC = m.select(isBin, r, m.index(0));
      Value src = m.add(m.mul(m.add(binBase, rC), m.index(p.headDim)), col);
      Value dst = m.add(m.tileOffset(plan.rows, r, m.div(col, m.index(8))),
                        m.rem(col, m.index(8)));
      auto pair2 = VectorType::get({2}, f32);
      for (auto [from, base] :
           {std::pair(tailKeys, kBase), std::pair(tailValues, vBase)}) {
        Value values = vector::LoadOp::create(b, pair2, from, ValueRange{src});
        values = m.select(
            isBin, values,
            arith::ConstantOp::create(
                b, DenseElementsAttr::get(pair2, b.getF32FloatAttr(0))));
        Value halvesPair =
            arith::TruncFOp::create(b, VectorType::get({2}, m.half), values);
        vector::StoreOp::create(b, halvesPair, halves,
                                ValueRange{m.add(base, dst)});
      }
      // The bias of bin column r: log2(n_b); -inf for padding columns.
      Value firstPair =
          arith::CmpIOp::create(b, arith::CmpIPredicate::eq, col, m.index(0));
      auto ifFirst = scf::IfOp::create(b, firstPair, false);
      b.setInsertionPointToStart(&ifFirst.getThenRegion().front());
      Value logCount = memref::LoadOp::create(b, tailLogCounts,
                                              ValueRange{m.add(binBase, rC)});
      Value bias = m.select(isBin, m.mulf(logCount, m.f32(kLog2e)), negInf);
      memref::StoreOp::create(b, bias, biases, ValueRange{m.add(biasBase, r)});
    }
  };

  // --- Epilogue: O / sum, rows past the sequence end skipped. ---------------
  // Direct: each thread stores its fragments' pairs, 4 bytes at a time (a
  // quad writes 16 bytes of a row: half a sector). Staged (the
  // warp-specialized kernels; `syncRows` meets the threads that own the same
  // 64 query rows): the pairs go into those rows of Q's region, in its
  // swizzled layout (a warp's 4-byte stores then hit 32 different banks),
  // and the rows leave in 16-byte chunks, whole rows per 8 or 16 threads
  // (H100 2026-12-07: cogvideox-5b 1-3 % faster, wan2.1-480p within noise).
  // Q's rows are free by then: every warp has waited for its last product,
  // and the first barrier makes sure all four have; a persistent kernel's
  // next Q load waits at the same barrier before it overwrites them.
  // Where output row `outRow` (in the output's token order) starts.
  auto outRowBase = [&](Value outRow) {
    return m.add(o.base, m.mul(outRow, o.tokenStride));
  };
  auto epilogue = [&](const State &state, llvm::function_ref<void()> syncRows) {
    bool staged = bool(syncRows);
    if (staged)
      syncRows();
    for (int64_t mt = 0; mt < mTiles; ++mt)
      for (int64_t half = 0; half < 2; ++half) {
        int64_t ri = 2 * mt + half;
        Value sum = state.sum[ri];
        sum = m.addf(sum, m.shuffleXor(sum, 1));
        sum = m.addf(sum, m.shuffleXor(sum, 2));
        Value hasKeys =
            arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, zeroF);
        Value inverse = m.select(
            hasKeys, NVVM::RcpApproxFtzF32Op::create(b, f32, sum), zeroF);
        Value r = m.add(m.add(warpRow, quadRow), m.index(16 * mt + 8 * half));
        auto pairOf = [&](int64_t nt) {
          return m.pack(m.mulf(state.out[mt][nt][2 * half], inverse),
                        m.mulf(state.out[mt][nt][2 * half + 1], inverse));
        };
        Value pairCol = m.mul(quadCol, m.index(2));
        if (staged)
          for (int64_t nt = 0; nt < dTiles; ++nt)
            vector::StoreOp::create(
                b, pairOf(nt), halves,
                ValueRange{
                    m.add(m.tileOffset(plan.br, r, m.index(nt)), pairCol)});
        Value token = m.add(blockStart, r);
        auto ifRow = scf::IfOp::create(b, m.ult(token, seqLen), false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&ifRow.getThenRegion().front());
        Value outRow = e.rowOf(m, token);
        if (!staged) {
          Value rowBase = outRowBase(outRow);
          for (int64_t nt = 0; nt < dTiles; ++nt)
            vector::StoreOp::create(
                b, pairOf(nt), o.view,
                ValueRange{m.add(rowBase, m.add(m.index(8 * nt), pairCol))},
                /*nontemporal=*/false, llvm::MaybeAlign(4));
        }
        if (p.writeLse) {
          Value lse = m.select(
              hasKeys, m.mulf(m.addf(state.max[ri], m.log2(sum)), m.f32(kLn2)),
              negInf);
          whenEqual(quadCol, 0, [&] {
            memref::StoreOp::create(
                b, lse, globalView(b, arg("lse"), f32),
                ValueRange{m.add(m.mul(batchHead, seqLen), outRow)});
          });
        }
      }
    if (!staged)
      return;
    syncRows();
    // Thread `local` of the 128 copies chunk local % chunks of rows
    // local / chunks, + 128 / chunks, ... of the 64.
    Value local = m.rem(m.sub(thread, m.index(128)), m.index(128));
    Value first = m.add(m.mul(m.div(rowWarp, m.index(4)), m.index(64)),
                        m.div(local, m.index(chunks)));
    Value copyChunk = m.rem(local, m.index(chunks));
    auto chunkType = VectorType::get({8}, m.half);
    for (int64_t it = 0; it < 64 * chunks / 128; ++it) {
      Value r = m.add(first, m.index(it * (128 / chunks)));
      Value token = m.add(blockStart, r);
      auto ifRow = scf::IfOp::create(b, m.ult(token, seqLen), false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifRow.getThenRegion().front());
      Value values = vector::LoadOp::create(
          b, chunkType, halves, ValueRange{m.tileOffset(plan.br, r, copyChunk)},
          /*nontemporal=*/false, llvm::MaybeAlign(16));
      Value dst =
          m.add(outRowBase(e.rowOf(m, token)), m.mul(copyChunk, m.index(8)));
      vector::StoreOp::create(b, values, o.view, ValueRange{dst},
                              /*nontemporal=*/false, llvm::MaybeAlign(16));
    }
  };

  if (!plan.ws) {
    loadQ(thread, plan.threads, m.index(0), plan.br);
    // Prologue: the K/V rows of the first `stages` tiles staged, the first
    // stages - 1 tiles in flight; through the token order, also the groups of
    // tile `stages` fetched (carried into the loop).
    for (int64_t st = 0; st < plan.stages; ++st)
      stageRow(m.index(st), keyRow(fetchGroup(m.index(st), thread), m.index(st),
                                   thread));
    SmallVector<Value> loopInit = init.flatten();
    if (p.tokenOrder)
      loopInit.push_back(fetchGroup(m.index(plan.stages), thread));
    whenEqual(thread, 0, [&] {
      for (int64_t st = 0; st < plan.stages; ++st)
        memref::StoreOp::create(b, minusOne, ids,
                                ValueRange{m.index(plan.maskedTileOffset(st))});
    });
    gpu::BarrierOp::create(b);
    for (int64_t st = 0; st < plan.stages - 1; ++st) {
      when(m.ult(m.index(st), numTiles),
           [&] { issueTile(m.index(st), m.index(st)); });
      NVVM::CpAsyncCommitGroupOp::create(b);
    }
    auto loop = scf::ForOp::create(b, m.index(0), numTiles, m.index(1), loopInit);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value t = loop.getInductionVar();
      // The K/V rows of tile t + stages, in flight during this tile's math:
      // their groups (read now, turned into rows after the math), or, through
      // the token order, their table entries (the groups came one tile
      // earlier) and the groups of the tile after.
      Value later = m.add(t, m.index(plan.stages));
      Value laterGroup, laterRow, nextGroup;
      if (p.tokenOrder) {
        laterRow = keyRow(loop.getRegionIterArgs().back(), later, thread);
        nextGroup = fetchGroup(m.add(later, m.index(1)), thread);
      } else {
        laterGroup = fetchGroup(later, thread);
      }
      Value ahead = m.add(t, m.index(plan.stages - 1));
      when(m.ult(ahead, numTiles),
           [&] { issueTile(ahead, stageIndex(ahead)); });
      NVVM::CpAsyncCommitGroupOp::create(b);
      NVVM::CpAsyncWaitGroupOp::create(b, plan.stages - 1);
      if (plan.wgmma)
        fenceForTensorCores();
      gpu::BarrierOp::create(b);
      State s = State::unflatten(loop.getRegionIterArgs(), mTiles, dTiles);
      Value stage = stageIndex(t);
      State next = foldTile(stage, t, s);
      stageRow(stageIndex(later),
                 p.tokenOrder ? laterRow : keyRow(laterGroup, later, thread));
      gpu::BarrierOp::create(b);
      SmallVector<Value> yielded = next.flatten();
      if (p.tokenOrder)
        yielded.push_back(nextGroup);
      scf::YieldOp::create(b, yielded);
    }
    State state = State::unflatten(loop.getResults(), mTiles, dTiles);
    // --- Tail bins: one more tile, from buffer 0. --------------------------
    if (p.bins > 0) {
      NVVM::CpAsyncWaitGroupOp::create(b, 0);
      writeTailTile(m.index(0), thread, plan.threads);
      if (plan.wgmma)
        fenceForTensorCores();
      gpu::BarrierOp::create(b);
      state = computeTile(m.index(0), plan.binsPad, state, /*masked=*/true);
    }
    epilogue(state, nullptr);
  } else {
    // --- Warp-specialized: warpgroup 0 loads, the others compute. ----------
    // Stage s holds tiles s, s + stages, ...; K and V have a barrier each
    // way, as in FlashAttention-3, so that V may still land while S = Q K^T
    // runs and K's buffer is refilled while P V runs. `full` K completes a
    // phase when the K rows have landed (each producer thread arrives twice:
    // once after its stores of biases and flags, with release semantics,
    // once through cp.async.mbarrier.arrive.noinc when its copies have
    // landed); `full` V when the V rows have (the cp.async arrivals alone);
    // `empty` K when every consumer thread is past the tile's softmax (the
    // biases are the stage's too), `empty` V past its P V. Tile t waits for
    // phase t / stages (parity (t / stages) % 2; the producer's first pass
    // waits on the parity before phase 0, which a fresh barrier reports
    // complete).
    enum Kind { FullK, FullV, EmptyK, EmptyV };
    auto barrier = [&](Kind kind, Value stage) -> Value {
      return m.sharedPointer(m.add(m.index(plan.barrierBytes(kind, 0)),
                                   m.mul(stage, m.index(8))));
    };
    auto parity = [&](Value tile) {
      return arith::IndexCastOp::create(
          b, i32, m.rem(m.div(tile, m.index(plan.stages)), m.index(2)));
    };
    auto waitBarrier = [&](Kind kind, Value stage, Value phaseParity) {
      NVVM::MBarrierTryWaitParityOp::create(b, barrier(kind, stage),
                                            phaseParity, m.i32(10000000));
    };
    auto arrive = [&](Kind kind, Value stage) {
      NVVM::MBarrierArriveOp::create(b, Type(), barrier(kind, stage), Value());
    };
    auto emptyParity = [&](Value tile) {
      return arith::XOrIOp::create(b, parity(tile), m.i32(1));
    };
    // The CTA's work items, each emitted by `body` with the item set
    // (useItem). Both roles walk the same items, and the stages' barriers
    // keep their phases from one item to the next: `body` takes the number
    // of tiles (stage uses, the tail bins' included) of the CTA's earlier
    // items and returns it with its own added, and the stage and parity of
    // a tile come from that running number. Not persistent: the CTA's one
    // item.
    auto forEachItem = [&](llvm::function_ref<Value(Value)> body) {
      if (!p.persistent) {
        body(m.index(0));
        return;
      }
      auto items = scf::ForOp::create(
          b, gpu::BlockIdOp::create(b, gpu::Dimension::x), e.items,
          gpu::GridDimOp::create(b, gpu::Dimension::x),
          ValueRange{m.index(0)});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(items.getBody());
      e.setItem(m, p, items.getInductionVar());
      useItem();
      scf::YieldOp::create(b, ValueRange{body(items.getRegionIterArgs()[0])});
    };
    // The running tile number after an item whose first tile is `base`.
    auto afterItem = [&](Value base) {
      return m.add(m.add(base, numTiles), m.index(p.bins > 0 ? 1 : 0));
    };
    whenEqual(thread, 0, [&] {
      for (int64_t st = 0; st < plan.stages; ++st) {
        for (auto [kind, count] :
             {std::pair(FullK, plan.fullKArrivals()),
              std::pair(FullV, plan.fullVArrivals()),
              std::pair(EmptyK, plan.consumerThreads()),
              std::pair(EmptyV, plan.consumerThreads())})
          NVVM::MBarrierInitOp::create(b, barrier(kind, m.index(st)),
                                       m.i32(count), Value());
        memref::StoreOp::create(b, minusOne, ids,
                                ValueRange{m.index(plan.maskedTileOffset(st))});
      }
      // The initialized barriers visible to TMA's completions (async proxy).
      if (plan.tma)
        fenceForTensorCores();
    });
    gpu::BarrierOp::create(b);
    auto roles = scf::IfOp::create(b, m.ult(e.warp, m.index(4)), true);

    // The producer: warp w stages rows [wR, (w+1)R) of each tile (R = key
    // tile / 4), lane l owning row wR + l: it fetches the row's group a tile
    // ahead and its K/V row, and the warp copies whole rows, 32 / chunks of
    // them per copy, taking each row's K/V row from its owner by a shuffle.
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&roles.getThenRegion().front());
      if (plan.pipelined())
        NVVM::SetMaxRegisterOp::create(b, uint32_t(plan.producerRegisters()),
                                       NVVM::SetMaxRegisterAction::decrease);
      int64_t ownRows = plan.producerWarpRows(), perCopy = plan.rowsPerCopy();
      Value owns = m.ult(e.lane, m.index(ownRows));
      Value warpFirst = m.mul(e.warp, m.index(ownRows));
      Value ownRow =
          m.select(owns, m.add(warpFirst, e.lane), m.index(plan.bc));
      Value copyRow = m.div(e.lane, m.index(chunks));
      Value copyChunk = m.rem(e.lane, m.index(chunks));
      Value copyCol = m.mul(copyChunk, m.index(8));
      // TMA: the lane that owns a box's first row issues it, after telling
      // the stage's barrier how many bytes to expect. A box with no group
      // (or that starts past the sequence) still loads real rows, those at
      // the start of the sequence, which their -inf column biases mask:
      // every box lands, the byte count is fixed, and the stage never
      // holds what shared memory held before the kernel (possibly NaN bit
      // patterns, which a mask cannot zero).
      Value issuesBox, kMap, vMap;
      if (plan.tma) {
        issuesBox = arith::AndIOp::create(
            b, owns,
            arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                  m.rem(ownRow, m.index(plan.boxRows)),
                                  m.index(0)));
        kMap = entry.getArgument(tensorMapIndex(params, "k"));
        vMap = entry.getArgument(tensorMapIndex(params, "v"));
      }
      Value headI32, batchI32; // the item's, for the boxes' coordinates
      auto loadBox = [&](Kind kind, Value stage, Value base, Value map,
                         Value key) {
        Value hasKey = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, key,
                                             m.i32(0));
        Value row = m.select(hasKey, key, m.i32(0));
        NVVM::MBarrierArriveExpectTxOp::create(
            b, Type(), barrier(kind, stage), m.i32(int32_t(plan.boxBytes())),
            NVVM::MemScopeKind::CTA, /*relaxed=*/false, Value());
        auto cluster = LLVM::LLVMPointerType::get(ctx, 7);
        for (int64_t block = 0; block < plan.d / 64; ++block) {
          // Row ownRow of the tile in 64-column block `block` (MmaPlan's
          // layout: blocks of rows x 128 bytes).
          Value offset = m.add(
              m.mul(m.add(base, m.index(block * plan.rows * 64)), m.index(2)),
              m.mul(ownRow, m.index(128)));
          Value dst =
              LLVM::AddrSpaceCastOp::create(b, cluster, m.sharedPointer(offset));
          NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
              b, dst, map,
              ValueRange{m.i32(int32_t(64 * block)), row, headI32, batchI32},
              barrier(kind, stage), ValueRange{}, Value(), Value(),
              NVVM::TMALoadMode::TILE, /*isCTAOnly=*/false,
              NVVM::CTAGroupKindAttr(), Value());
        }
      };
      forEachItem([&](Value base) {
      headI32 = arith::IndexCastOp::create(b, i32, e.head);
      batchI32 = arith::IndexCastOp::create(b, i32, e.batch);
      auto produce = scf::ForOp::create(b, m.index(0), numTiles, m.index(1),
                                        ValueRange{fetchGroup(m.index(0), ownRow)});
      {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(produce.getBody());
        // Tile t of the item, g of the CTA.
        Value t = produce.getInductionVar();
        Value g = m.add(base, t);
        Value stage = stageIndex(g);
        Value ownKey = keyRow(produce.getRegionIterArgs()[0], t, ownRow);
        Value nextGroup = fetchGroup(m.add(t, m.index(1)), ownRow);
        auto [kBase, vBase, biasBase] = stageBases(stage);
        // The rows of K (then of V) into the stage: lane l's copies take
        // rows copyRow + it * perCopy of the warp's, their K/V row from the
        // owning lane.
        // The lane's values go through pins first: else LLVM computes the
        // per-copy addresses once for K and V and keeps them all live
        // across the V buffer's wait (hundreds of bytes of spills within
        // the producer's registers).
        auto copyRows = [&](Value base, AttentionEntry::Tensor &from) {
          Value key0 = m.pin(ownKey);
          Value row0 = m.toIndex(m.pin(arith::IndexCastOp::create(
              b, i32, m.add(warpFirst, copyRow))));
          for (int64_t it = 0; it < ownRows / perCopy; ++it) {
            Value local = m.add(copyRow, m.index(it * perCopy));
            Value key =
                gpu::ShuffleOp::create(
                    b, key0, arith::IndexCastOp::create(b, i32, local),
                    m.i32(32), gpu::ShuffleMode::IDX)
                    .getShuffleResult();
            Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::sge,
                                                key, m.i32(0));
            Value keyC = m.toIndex(m.select(valid, key, m.i32(0)));
            Value dst = m.tileOffset(
                plan.rows, m.add(row0, m.index(it * perCopy)), copyChunk);
            m.copy16(halves, m.add(base, dst), from.view,
                     m.add(m.add(from.base, m.mul(keyC, from.tokenStride)),
                           copyCol),
                     valid);
          }
        };
        Value hasKey = arith::CmpIOp::create(b, arith::CmpIPredicate::sge,
                                             ownKey, m.i32(0));
        waitBarrier(EmptyK, stage, emptyParity(g));
        if (plan.tma) {
          when(issuesBox, [&] { loadBox(FullK, stage, kBase, kMap, ownKey); });
        } else {
          copyRows(kBase, k);
        }
        when(owns, [&] { markRow(hasKey, biasBase, ownRow, g, stage); });
        arrive(FullK, stage);
        if (plan.tma) {
          when(issuesBox, [&] {
            waitBarrier(EmptyV, stage, emptyParity(g));
            loadBox(FullV, stage, vBase, vMap, ownKey);
          });
        } else {
          NVVM::CpAsyncMBarrierArriveOp::create(b, barrier(FullK, stage),
                                                /*noinc=*/true);
          waitBarrier(EmptyV, stage, emptyParity(g));
          copyRows(vBase, v);
          NVVM::CpAsyncMBarrierArriveOp::create(b, barrier(FullV, stage),
                                                /*noinc=*/true);
        }
        scf::YieldOp::create(b, ValueRange{nextGroup});
      }
      if (p.bins > 0) {
        Value tail = m.add(base, numTiles);
        Value stage = stageIndex(tail);
        waitBarrier(EmptyK, stage, emptyParity(tail));
        waitBarrier(EmptyV, stage, emptyParity(tail));
        writeTailTile(stage, thread, 128);
        fenceForTensorCores();
        arrive(FullK, stage);
        if (plan.tma) {
          when(issuesBox, [&] {
            arrive(FullK, stage);
            arrive(FullV, stage);
          });
        } else {
          arrive(FullK, stage);
          arrive(FullV, stage);
        }
      }
      return afterItem(base);
      });
      // Not exiting with copies in flight (their arrivals are pending);
      // TMA boxes are waited for by the consumers.
      if (!plan.tma)
        NVVM::CpAsyncWaitGroupOp::create(b, 0);
    }

    // The consumers: warpgroup g (from 0) owns query rows [64g, 64g + 64).
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&roles.getElseRegion().front());
      if (plan.pipelined())
        NVVM::SetMaxRegisterOp::create(b, uint32_t(plan.consumerRegisters()),
                                       NVVM::SetMaxRegisterAction::increase);
      Value local = m.sub(thread, m.index(128));
      Value group = m.div(local, m.index(128));
      Value groupI32 = arith::IndexCastOp::create(b, i32, group);
      // The warpgroup's barrier (named barrier 1 + g, its 128 threads).
      auto syncWarpgroup = [&] {
        NVVM::BarrierOp::create(b, TypeRange{},
                                arith::AddIOp::create(b, groupI32, m.i32(1)),
                                m.i32(128), {}, Value());
      };
      // The item's 64 query rows into the warpgroup's part of Q. A later
      // item's rows overwrite the last one's: every warp of the warpgroup
      // has waited for its last product that read Q before it gets here,
      // and the barrier first makes sure that all four have.
      auto loadQueries = [&] {
        if (p.persistent)
          syncWarpgroup();
        loadQ(m.rem(local, m.index(128)), 128, m.mul(group, m.index(64)), 64);
        NVVM::CpAsyncWaitGroupOp::create(b, 0);
        fenceForTensorCores();
        syncWarpgroup();
      };
      if (!p.persistent)
        loadQueries(); // the one item's, before the turns begin
      // Two consumers take turns issuing products (FlashAttention-3's
      // ping-pong): warpgroup g waits at named barrier 3 + g and, once its
      // group is committed, lets the other go by arriving at 4 - g. The
      // order is then S of 0, S of 1, P V of 0, P V of 1, ...: one's
      // softmax runs while the other's products do. Warpgroup 1 lets 0 go
      // first; 0 takes that extra arrival back at the end.
      bool pingPong = plan.consumerThreads() == 256;
      if (pingPong) {
        Value mine = arith::AddIOp::create(b, groupI32, m.i32(3));
        Value other = arith::SubIOp::create(b, m.i32(4), groupI32);
        awaitTurn = [&, mine](Value after) {
          if (!after) {
            NVVM::BarrierOp::create(b, TypeRange{}, mine, m.i32(256), {},
                                    Value());
            return;
          }
          // The barrier under a predicate that is always true (`after` is
          // a number or NaN) but that ptxas cannot know before `after`
          // exists, so the wait stays below the code that makes it.
          LLVM::InlineAsmOp::create(
              b, TypeRange{}, ValueRange{mine, after},
              "{\n.reg .pred p, q;\nsetp.num.f32 p, $1, $1;\n"
              "setp.nan.f32 q, $1, $1;\nor.pred p, p, q;\n"
              "@p bar.sync $0, 256;\n}",
              "r,f", /*has_side_effects=*/true, /*is_align_stack=*/false,
              LLVM::tailcallkind::TailCallKind::None,
              LLVM::AsmDialectAttr::get(b.getContext(),
                                        LLVM::AsmDialect::AD_ATT),
              ArrayAttr());
        };
        passTurn = [&, other] {
          NVVM::BarrierArriveOp::create(b, other, m.i32(256));
        };
        whenEqual(group, 1, [&] {
          NVVM::BarrierArriveOp::create(b, m.i32(3), m.i32(256));
        });
      }
      auto consumePipelined = [&](Value base) -> State {
        // Software-pipelined (FlashAttention-3's intra-warpgroup overlap):
        // iteration t issues S_t = Q K_t and O += P_{t-1} V_{t-1} as two
        // groups, runs the softmax of S_t while P V is in flight, then
        // rescales O. Tile 0's scores come before the loop, the last P V
        // after it. Loop-carried: the softmax state and P (four i32 per k16
        // step), which stays pinned until its product has completed, so that
        // the next P never takes its registers while the tensor cores read
        // them (ptxas would serialize every wgmma: C7513).
        int64_t steps = plan.bc / 16;
        int64_t pCount = 4 * steps;
        auto softmaxOf = [&](Scores scores, Value stage, Value tile,
                             const State &s) {
          // P, max, sum and the corrections of O, through the masked or the
          // fast path.
          SmallVector<Type> types(pCount, i32);
          types.append(6, f32);
          Value lastMasked = memref::LoadOp::create(
              b, ids,
              ValueRange{m.add(m.index(plan.maskedTileOffset(0)), stage)});
          Value isMasked =
              arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lastMasked,
                                    arith::IndexCastOp::create(b, i32, tile));
          auto ifMasked = scf::IfOp::create(b, types, isMasked, true);
          for (bool masked : {true, false}) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(masked
                                           ? &ifMasked.getThenRegion().front()
                                           : &ifMasked.getElseRegion().front());
            Scores local = scores;
            State next = s;
            SmallVector<Value> corrections =
                softmax(local, next, stageBases(stage).bias, masked);
            SmallVector<Value> results;
            for (auto &regs : packedP(local))
              results.append(regs.begin(), regs.end());
            results.append(next.max.begin(), next.max.end());
            results.append(next.sum.begin(), next.sum.end());
            results.append(corrections.begin(), corrections.end());
            scf::YieldOp::create(b, results);
          }
          return ifMasked.getResults();
        };
        auto groupsOf = [&](ValueRange flat) {
          SmallVector<SmallVector<Value>> a;
          for (int64_t kk = 0; kk < steps; ++kk)
            a.emplace_back(flat.begin() + 4 * kk, flat.begin() + 4 * kk + 4);
          return a;
        };
        // Keeps `values` live (as LLVM sees it) up to this point.
        auto keepAlive = [&](ArrayRef<Value> values) {
          std::string constraints;
          for (size_t i = 0; i < values.size(); ++i)
            constraints += (i ? ",r" : "r");
          LLVM::InlineAsmOp::create(
              b, TypeRange{}, values, "", constraints,
              /*has_side_effects=*/true, /*is_align_stack=*/false,
              LLVM::tailcallkind::TailCallKind::None,
              LLVM::AsmDialectAttr::get(b.getContext(),
                                        LLVM::AsmDialect::AD_ATT),
              ArrayAttr());
        };
        Value anyTiles = m.ult(m.index(0), numTiles);
        // Tile 0: its scores and softmax (O is still zero).
        SmallVector<Type> carriedTypes(pCount, i32);
        carriedTypes.append(4, f32);
        auto ifFirstTile = scf::IfOp::create(b, carriedTypes, anyTiles, true);
        {
          OpBuilder::InsertionGuard g2(b);
          b.setInsertionPointToStart(&ifFirstTile.getThenRegion().front());
          Value stage = stageIndex(base);
          waitBarrier(FullK, stage, parity(base));
          afterStageWait();
          Scores scores = scoresWgmma(stageBases(stage).k, plan.bc);
          ValueRange r = softmaxOf(scores, stage, base, init);
          arrive(EmptyK, stage);
          scf::YieldOp::create(b, r.take_front(pCount + 4));
          b.setInsertionPointToStart(&ifFirstTile.getElseRegion().front());
          SmallVector<Value> none(pCount, m.i32(0));
          none.append(init.max.begin(), init.max.end());
          none.append(init.sum.begin(), init.sum.end());
          scf::YieldOp::create(b, none);
        }
        SmallVector<Value> loopInit(ifFirstTile.getResults());
        for (auto &tile : init.out[0])
          loopInit.append(tile.begin(), tile.end());
        auto consume = scf::ForOp::create(b, m.index(1), numTiles, m.index(1),
                                          loopInit);
        // Carried: P (pCount), max (2), sum (2), O (head_dim / 2).
        auto carried = [&](ValueRange v, SmallVector<Value> &pFlat, State &s) {
          pFlat.assign(v.begin(), v.begin() + pCount);
          s = State::unflatten(v.drop_front(pCount), mTiles, dTiles);
        };
        {
          OpBuilder::InsertionGuard g2(b);
          b.setInsertionPointToStart(consume.getBody());
          // Tile t of the item, g of the CTA.
          Value g = m.add(base, consume.getInductionVar());
          Value stage = stageIndex(g);
          Value previous = stageIndex(m.sub(g, m.index(1)));
          SmallVector<Value> pFlat;
          State s;
          carried(consume.getRegionIterArgs(), pFlat, s);
          waitBarrier(FullK, stage, parity(g));
          waitBarrier(FullV, previous, parity(m.sub(g, m.index(1))));
          afterStageWait();
          auto [descQ, descK] = scoreDescriptors(stageBases(stage).k);
          SmallVector<SmallVector<Value>> a;
          for (auto &regs : groupsOf(pFlat))
            a.push_back(m.pin(regs));
          SmallVector<Value> descV =
              valueDescriptors(stageBases(previous).v, steps);
          Value outAcc = pinnedOutput(s);
          awaitTurn(m.addf(s.sum[0], s.sum[1]));
          NVVM::WgmmaFenceAlignedOp::create(b);
          Value scoreAcc = issueScores(descQ, descK, plan.bc);
          NVVM::WgmmaGroupSyncAlignedOp::create(b);
          outAcc = issueOutput(a, descV, outAcc);
          NVVM::WgmmaGroupSyncAlignedOp::create(b);
          passTurn();
          NVVM::WgmmaWaitGroupSyncOp::create(b, 1);
          ValueRange r = softmaxOf(scoresOf(scoreAcc, plan.bc), stage, g, s);
          arrive(EmptyK, stage);
          NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
          for (auto &regs : a)
            keepAlive(regs);
          State next = s;
          setOutput(next, outAcc);
          arrive(EmptyV, previous);
          next.max.assign(r.begin() + pCount, r.begin() + pCount + 2);
          next.sum.assign(r.begin() + pCount + 2, r.begin() + pCount + 4);
          rescale(next, SmallVector<Value>(r.begin() + pCount + 4, r.end()));
          SmallVector<Value> yielded(r.begin(), r.begin() + pCount);
          SmallVector<Value> rest = next.flatten();
          yielded.append(rest.begin(), rest.end());
          scf::YieldOp::create(b, yielded);
        }
        // The last tile's P V.
        SmallVector<Value> lastP;
        State state;
        carried(consume.getResults(), lastP, state);
        {
          SmallVector<Type> outTypes(state.flatten().size(), f32);
          auto ifLast = scf::IfOp::create(b, outTypes, anyTiles, true);
          OpBuilder::InsertionGuard g2(b);
          b.setInsertionPointToStart(&ifLast.getThenRegion().front());
          Value lastTile = m.sub(m.add(base, numTiles), m.index(1));
          Value last = stageIndex(lastTile);
          SmallVector<SmallVector<Value>> a;
          for (auto &regs : groupsOf(lastP))
            a.push_back(m.pin(regs));
          waitBarrier(FullV, last, parity(lastTile));
          afterStageWait();
          State done = state;
          productOutput(a, stageBases(last).v, done);
          arrive(EmptyV, last);
          scf::YieldOp::create(b, done.flatten());
          b.setInsertionPointToStart(&ifLast.getElseRegion().front());
          scf::YieldOp::create(b, state.flatten());
          b.setInsertionPointAfter(ifLast);
          state = State::unflatten(ifLast.getResults(), mTiles, dTiles);
        }
        return state;
      };
      // In order: per tile, S, the softmax, then P V (the cp.async
      // producer's kernels, whose roles keep the launch's 168 registers).
      auto consumeInOrder = [&](Value base) -> State {
        auto consume = scf::ForOp::create(b, m.index(0), numTiles,
                                          m.index(1), init.flatten());
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(consume.getBody());
        // Tile t of the item, g of the CTA.
        Value g = m.add(base, consume.getInductionVar());
        Value stage = stageIndex(g);
        waitBarrier(FullK, stage, parity(g));
        afterStageWait();
        State s = State::unflatten(consume.getRegionIterArgs(), mTiles, dTiles);
        // After the softmax: K's buffer and the biases are free, V must
        // have landed.
        beforeOutput = [&, g](Value stage) {
          arrive(EmptyK, stage);
          waitBarrier(FullV, stage, parity(g));
          afterStageWait();
        };
        State next = foldTile(stage, g, s);
        arrive(EmptyV, stage);
        scf::YieldOp::create(b, next.flatten());
        b.setInsertionPointAfter(consume);
        return State::unflatten(consume.getResults(), mTiles, dTiles);
      };
      std::optional<State> lastState;
      forEachItem([&](Value base) {
        if (p.persistent)
          loadQueries();
        State state =
            plan.pipelined() ? consumePipelined(base) : consumeInOrder(base);
        if (p.bins > 0) {
          Value tail = m.add(base, numTiles);
          Value stage = stageIndex(tail);
          waitBarrier(FullK, stage, parity(tail));
          fenceForTensorCores();
          beforeOutput = [&](Value stage) {
            waitBarrier(FullV, stage, parity(tail));
            fenceForTensorCores();
          };
          state = computeTile(stage, plan.binsPad, state, /*masked=*/true);
          // Its products waited for: a persistent CTA's next item loads
          // into this stage again (the one item of any other CTA ends here).
          if (p.persistent) {
            arrive(EmptyK, stage);
            arrive(EmptyV, stage);
          }
        }
        // A persistent CTA stores each item's rows before taking the next;
        // the one item of any other CTA is stored after the turns end.
        if (p.persistent)
          epilogue(state, syncWarpgroup);
        else
          lastState = state;
        return afterItem(base);
      });
      if (pingPong) {
        whenEqual(group, 0, [&] {
          NVVM::BarrierOp::create(b, TypeRange{}, m.i32(3), m.i32(256), {},
                                  Value());
        });
      }
      awaitTurn = [](Value) {};
      passTurn = [] {};
      beforeOutput = [](Value) {};
      if (lastState)
        epilogue(*lastState, syncWarpgroup);
    }
  }

  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b);
  return func;
}

} // namespace sattn
