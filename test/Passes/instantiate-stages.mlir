// RUN: sattn-opt %s --sattn-expand --sattn-instantiate-kernels=arch=sm_90a -split-input-file -verify-diagnostics | FileCheck %s

// Every stage op of a two-level softmax-sum variant with tail bins gets its
// kernels, each with its launch shape, when the runtime launches it, and
// its buffers bound to the op's operands and results, a constant table, or
// a scratch buffer. S = 262: 3 query blocks of 128, 17 scoring tiles of 16,
// 3 groups of 128 and 9 of 32.

#wan = #sattn.variant<name = "wan", problem = <heads = 2, grid = [2, 8, 16], text_tokens = 6>,
                      reorder = <kind = hilbert3d>, block = <k = 32>,
                      scoring = <levels = [128, 32]>, tail = <bins = 4>>

// CHECK-LABEL: func.func @wan
// CHECK: sattn.reorder {{.*}}sattn.kernels = [@sattn_kernels::@sattn_reorder]
// CHECK: sattn.pool {{.*}}sattn.kernels = [@sattn_kernels::@sattn_pool]
// CHECK: sattn.score {{.*}}sattn.kernels = [@sattn_kernels::@sattn_score]
// CHECK: sattn.select {{.*}}sattn.kernels = [@sattn_kernels::@sattn_select]
// CHECK: sattn.tail_bins {{.*}}sattn.kernels = [@sattn_kernels::@sattn_tail_order, @sattn_kernels::@sattn_tail_sums, @sattn_kernels::@sattn_tail_values]
// CHECK: sattn.unreorder {{.*}}sattn.kernels = [@sattn_kernels::@sattn_unreorder]

// Reorder: a gather through the runtime's token_order table, every step.
// CHECK: gpu.func @sattn_reorder(
// CHECK-SAME: {sattn.param = {name = "x", operand = 0 : i64, role = "buffer"}}
// CHECK-SAME: {sattn.param = {name = "y", result = 0 : i64, role = "buffer"}}
// CHECK-SAME: {sattn.param = {constant = "token_order", name = "token_order", role = "buffer"}}
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK-SAME: sattn.grid = array<i64: 9, 2, 1>, sattn.grid_formula = ["ceildiv(S, 32)", "H", "B"]
// CHECK-SAME: sattn.when = "always"
// Scoring means only at a refresh.
// CHECK: gpu.func @sattn_pool(
// CHECK-SAME: sattn.grid = array<i64: 17, 2, 1>
// CHECK-SAME: sattn.when = "refresh"
// The first level on tensor cores: 4 warps, 8 query blocks per CTA, the
// finest level's sums into the shared scratch fine_scores.
// CHECK: gpu.func @sattn_score(
// CHECK-SAME: {sattn.param = {dtype = "f32", name = "fine_scores", role = "buffer", scratch, shape = [1, 2, 3, 9], shared}}
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK-SAME: sattn.grid = array<i64: 1, 2, 1>, sattn.grid_formula = ["ceildiv(S, 1024)", "H", "B"]
// CHECK: nvvm.mma.sync
// CHECK: memref.atomic_rmw addf
// Selection reads the step's density as f64 from the runtime.
// CHECK: gpu.func @sattn_select(
// CHECK-SAME: f64 {sattn.param = {name = "density", role = "scalar", source = "density"}}
// CHECK-SAME: sattn.when = "refresh"
// The fine level derives its scores from fine_scores and its parents.
// CHECK: gpu.func @sattn_score_1(
// CHECK-SAME: {sattn.param = {dtype = "f32", name = "fine_scores", role = "buffer", scratch, shape = [1, 2, 3, 9], shared}}
// CHECK-SAME: {sattn.param = {name = "parent_groups", operand = 2 : i64, role = "buffer"}}
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.func @sattn_select_1(
// CHECK-SAME: {sattn.param = {name = "parent_groups", operand = 1 : i64, role = "buffer"}}
// Means for the tail bins every sparse step.
// CHECK: gpu.func @sattn_pool_2(
// CHECK-SAME: sattn.when = "sparse"
// Tail bins: membership (bin_of) at a refresh; every sparse step the f16
// count-weighted sums of the group means (keys and values, the count
// column, 15 zeros: 144 halves a row), then one CTA per (64 query blocks,
// bin) for the values.
// CHECK: gpu.func @sattn_tail_order(
// CHECK-SAME: {sattn.param = {dtype = "i8", name = "bin_of", role = "buffer", scratch, shape = [1, 2, 3, 9]}}
// CHECK-SAME: sattn.when = "refresh"
// CHECK: gpu.func @sattn_tail_sums(
// CHECK-SAME: {sattn.param = {dtype = "f16", name = "tail_sums", role = "buffer", scratch, shape = [1, 2, 2, 9, 144]}}
// CHECK-SAME: sattn.grid = array<i64: 2, 2, 1>, sattn.grid_formula = ["ceildiv(ceildiv(S, 32) * 36, 256)", "H", "B"]
// CHECK-SAME: sattn.when = "sparse"
// CHECK: gpu.func @sattn_tail_values(
// CHECK-SAME: {sattn.param = {dtype = "i8", name = "bin_of", role = "buffer", scratch, shape = [1, 2, 3, 9]}}
// CHECK-SAME: sattn.grid = array<i64: 4, 2, 1>, sattn.grid_formula = ["ceildiv(S, 8192) * 4", "H", "B"]
// CHECK-SAME: sattn.when = "sparse"
// The attention kernel takes the dense flag; unreorder scatters.
// CHECK: gpu.func @sattn_sparse_attention(
// CHECK-SAME: i32 {sattn.param = {name = "dense", role = "scalar", source = "dense"}}
// CHECK: gpu.func @sattn_unreorder(
// CHECK-SAME: sattn.when = "always"
func.func @wan(%q: tensor<1x2x262x128xbf16>, %k: tensor<1x2x262x128xbf16>, %v: tensor<1x2x262x128xbf16>) -> tensor<1x2x262x128xbf16> {
  %o = sattn.attention %q, %k, %v {variant = #wan} : tensor<1x2x262x128xbf16>
  return %o : tensor<1x2x262x128xbf16>
}

// -----

// Adaptive densities: the probe's recall curves (a select kernel that adds
// each row's curve into a scratch buffer) and each head's density (f64),
// which the final selection reads per head.
#adaptive = #sattn.variant<name = "a", problem = <heads = 1, grid = [1, 8, 16]>,
                           block = <q = 64, k = 32>, adaptive = <enabled = true>>

// CHECK-LABEL: func.func @adaptive
// CHECK: sattn.adaptive_density {{.*}}sattn.kernels = [@sattn_kernels::@sattn_recall_curve, @sattn_kernels::@sattn_adaptive_density]
// CHECK-SAME: -> tensor<1x1xf64>
// CHECK: sattn.select %{{.*}} densities(%{{.*}}) {{.*}}sattn.kernels = [@sattn_kernels::@sattn_select]
// CHECK: gpu.func @sattn_recall_curve(
// CHECK-SAME: {sattn.param = {dtype = "f32", name = "curve", role = "buffer", scratch, shape = [1, 1, 4]}}
// CHECK-SAME: sattn.stage = "adaptive_density", sattn.when = "refresh"
// CHECK: memref.atomic_rmw addf
// CHECK: gpu.func @sattn_adaptive_density(
// CHECK-SAME: {sattn.param = {dtype = "f32", name = "curve", role = "buffer", scratch, shape = [1, 1, 4]}}
// CHECK-SAME: {sattn.param = {name = "head_density", result = 0 : i64, role = "buffer"}}
// CHECK: gpu.func @sattn_select(
// CHECK-SAME: {sattn.param = {name = "head_density", operand = 1 : i64, role = "buffer"}}
// CHECK-NOT: source = "density"
// CHECK-SAME: kernel
func.func @adaptive(%q: tensor<1x1x128x128xbf16>) -> tensor<1x1x128x128xbf16> {
  %o = sattn.attention %q, %q, %q {variant = #adaptive} : tensor<1x1x128x128xbf16>
  return %o : tensor<1x1x128x128xbf16>
}

// -----

// Beyond a stage kernel's limits the stage stays without a kernel, naming
// the value; the attention kernel is still built (for a caller's own masks).
#many = #sattn.variant<name = "many", problem = <heads = 1, head_dim = 64, grid = [4, 128, 256]>,
                       block = <k = 16>, tail = <bins = 0>>
// CHECK-LABEL: func.func @many
// CHECK: sattn.select
// CHECK-SAME: sattn.no_kernel = "the select kernel cannot take 8192 key groups of 16 tokens per row (the GPU selection sorts at most 4096 per row)"
// CHECK: sattn.sparse_attention {{.*}}sattn.kernels = [@sattn_kernels::@sattn_sparse_attention]
func.func @many(%q: tensor<1x1x131072x64xbf16>) -> tensor<1x1x131072x64xbf16> {
  %o = sattn.attention %q, %q, %q {variant = #many} : tensor<1x1x131072x64xbf16>
  return %o : tensor<1x1x131072x64xbf16>
}
