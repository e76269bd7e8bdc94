//===- StageKernels.h - Kernels of the pipeline stages ----------*- C++ -*-===//
//
// The stages around the attention kernel (SPEC §4.1-4.5, 4.8): reorder and
// unreorder, pooling, scoring, selection and the tail bins, each a
// `gpu.func` built for the static shapes of one stage op. They follow the
// float64 reference in compiler/reference/ (Reorder, Pool, Score, Select,
// TailBins) step for step; where f32 on the GPU can differ (ties, a topp
// prefix that lands exactly on p) the comment at the kernel says so.
//
// Shared-memory arrays are workgroup attributions of static size, so every
// kernel here stays under the 48 KiB a launch gets without opting in; the
// limits this implies (groups per row) are checked by `...Problem` before a
// kernel is built, with a message naming the value.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_TEMPLATES_STAGEKERNELS_H
#define SATTN_TEMPLATES_STAGEKERNELS_H

#include "dialect/VariantParams.h"
#include "templates/KernelBuilder.h"

#include <string>

namespace sattn {

/// Tokens permuted along S (SPEC §4.1): `y[s] = x[order[s]]` (gather), or
/// with `inverse` `y[order[s]] = x[s]` (scatter), order = the constant
/// buffer `token_order`. One 16-byte vector per thread and row.
struct ReorderKernelParams {
  std::string name = "sattn_reorder";
  DType dtype = DType::BF16;
  int64_t headDim = 128;
  bool inverse = false;
  /// Rows per thread block.
  static constexpr int64_t kRows = 32;
};
mlir::gpu::GPUFuncOp buildReorderKernel(mlir::OpBuilder &builder,
                                        mlir::gpu::GPUModuleOp module,
                                        const ReorderKernelParams &p);

/// Means over tiles of `tile` tokens (SPEC §4.2): one thread block per tile,
/// one thread per channel; a partial last tile is averaged over its count.
struct PoolKernelParams {
  std::string name = "sattn_pool";
  DType dtype = DType::BF16;
  int64_t headDim = 128;
  int64_t tile = 16;
  /// Tiles of the reordered sequence read through `token_order` (position t
  /// is row token_order[t] of x, which is in frame-major order).
  bool tokenOrder = false;
};
mlir::gpu::GPUFuncOp buildPoolKernel(mlir::OpBuilder &builder,
                                     mlir::gpu::GPUModuleOp module,
                                     const PoolKernelParams &p);

/// Scores of one level (SPEC §4.3), one thread block per (query block,
/// head, batch), dense over the row: groups whose parent was not kept get
/// the inherited score (parent / r for softmax-sum, parent - log r for
/// logit), the others their real score.
struct ScoreKernelParams {
  std::string name = "sattn_score";
  ScoreAggregate aggregate = ScoreAggregate::SoftmaxSum;
  int64_t headDim = 128;
  int64_t seqLen = 0;
  int64_t blockQ = 128;
  /// softmax-sum: the pooling tiles; logit: blockQ and `group`.
  int64_t poolQ = 16, poolK = 16;
  int64_t group = 128;
  /// 0: the first level (no parent).
  int64_t parentGroup = 0;
  double scale = 0;
  /// softmax-sum over several levels: the finest level's group size. The
  /// tile probabilities are summed once, by the first level's kernel, into
  /// the shared scratch `fine_scores` at this granularity; the finer levels'
  /// kernels derive their real scores from it (`fromFine`).
  int64_t fineGroup = 0;
  bool fromFine = false;
  static constexpr int64_t kThreads = 256;
};
std::string scoreKernelProblem(const ScoreKernelParams &p);

/// softmax-sum scoring of the first level on tensor cores (mma.sync
/// m16n8k16, f16 operands, f32 accumulation): each warp takes 16 query
/// tiles against every key tile (staged 32 at a time through shared
/// memory), twice: the softmax's max and normalizer, then the
/// probabilities summed per (query block, key group) into shared memory.
/// 0 warps: the shape does not fit (see scoreMmaWarps); use the SIMT kernel.
int64_t scoreMmaWarps(const ScoreKernelParams &p);
/// Query blocks per thread block of the tensor-core score kernel.
int64_t scoreMmaBlocksPerCta(const ScoreKernelParams &p);
mlir::gpu::GPUFuncOp buildScoreMmaKernel(mlir::OpBuilder &builder,
                                         mlir::gpu::GPUModuleOp module,
                                         const ScoreKernelParams &p);
mlir::gpu::GPUFuncOp buildScoreKernel(mlir::OpBuilder &builder,
                                      mlir::gpu::GPUModuleOp module,
                                      const ScoreKernelParams &p);

/// Selection of one level (SPEC §4.4), one thread block per row: the
/// forced groups, then the candidates sorted by score (a bitonic sort of
/// 64-bit keys in shared memory, ties to the lower index), the rule's
/// prefix, written ascending with its count and kept share.
struct SelectKernelParams {
  std::string name = "sattn_select";
  ScoreAggregate aggregate = ScoreAggregate::SoftmaxSum;
  SelectionParams selection;
  ProblemParams problem;
  int64_t blockQ = 128;
  int64_t group = 128;
  int64_t parentGroup = 0;
  bool finalLevel = true;
  /// Where topk's density comes from: the runtime's per-step scalar, the
  /// constant `fixedDensity` (an adaptive probe), or one f64 per (batch,
  /// head) in the buffer `head_density`.
  enum class Density { Step, Fixed, PerHead };
  Density density = Density::Step;
  double fixedDensity = 1.0;
  /// Adaptive densities: instead of lists, add this row's estimated recall
  /// curve (recall(k) for k = 1..G, the share of the first max(k, forced)
  /// ranked groups; 1 for a dense row) into the scratch buffer `curve`
  /// [B, H, G] with atomics.
  bool curve = false;
  static constexpr int64_t kThreads = 256;
  /// Groups a row may have: the sort keys (8 bytes each) must fit in
  /// shared memory.
  static constexpr int64_t kMaxGroups = 4096;
};
std::string selectKernelProblem(const SelectKernelParams &p);

/// The per-head density of adaptive selection from the curves the
/// `curve` select kernel summed: the smallest k whose mean recall over the
/// query blocks reaches the target (G if none), k / G clamped into [min,
/// max], written as f64 to `head_density`; the curve is zeroed again for
/// the next refresh. One thread block per (batch, head).
struct AdaptiveDensityKernelParams {
  std::string name = "sattn_adaptive_density";
  AdaptiveParams adaptive;
  int64_t numGroups = 1, numQueryBlocks = 1;
  static constexpr int64_t kThreads = 256;
};
mlir::gpu::GPUFuncOp buildAdaptiveDensityKernel(
    mlir::OpBuilder &builder, mlir::gpu::GPUModuleOp module,
    const AdaptiveDensityKernelParams &p);
mlir::gpu::GPUFuncOp buildSelectKernel(mlir::OpBuilder &builder,
                                       mlir::gpu::GPUModuleOp module,
                                       const SelectKernelParams &p);

/// The tail bins (SPEC §4.5) in two kernels: `order` (at a refresh) sorts
/// each row's unselected groups by score and writes each group's bin into
/// the scratch buffer `bin_of` (i8 [B, H, NQ, G], -1 for kept groups), and
/// `values` (every sparse step) averages the current k and v per bin, for
/// several rows at once so that each group's means are read once per CTA.
struct TailKernelParams {
  std::string name = "sattn_tail";
  int64_t headDim = 128;
  int64_t seqLen = 0;
  int64_t blockQ = 128;
  int64_t group = 32;
  int64_t bins = 4;
  static constexpr int64_t kThreads = 256;
};
std::string tailKernelProblem(const TailKernelParams &p, int64_t numGroups);
/// Query blocks per thread block of the values kernel.
int64_t tailRowsPerCta(const TailKernelParams &p);
mlir::gpu::GPUFuncOp buildTailOrderKernel(mlir::OpBuilder &builder,
                                          mlir::gpu::GPUModuleOp module,
                                          const TailKernelParams &p);
/// Halves per row of the values kernel's operand: D sums, the count, zeros.
int64_t tailSumsWidth(const TailKernelParams &p);
mlir::gpu::GPUFuncOp buildTailSumsKernel(mlir::OpBuilder &builder,
                                         mlir::gpu::GPUModuleOp module,
                                         const TailKernelParams &p);
mlir::gpu::GPUFuncOp buildTailValuesKernel(mlir::OpBuilder &builder,
                                           mlir::gpu::GPUModuleOp module,
                                           const TailKernelParams &p);

} // namespace sattn

#endif // SATTN_TEMPLATES_STAGEKERNELS_H
