// RUN: sattn-opt %s --sattn-expand | FileCheck %s

// The defaults: identity order (no reorder ops), one scoring level of 128,
// softmax-sum over 16-token tiles, top-k, no tail bins, no linear path.
// S = 1*16*16 = 256: two query blocks, two key groups.

// CHECK-LABEL: func.func @default
// CHECK-NOT: sattn.reorder
// CHECK: %[[QP:.*]] = sattn.pool %arg0 tile 16 : tensor<1x2x256x64xbf16> -> tensor<1x2x16x64xf32>
// CHECK: %[[KP:.*]] = sattn.pool %arg1 tile 16 : tensor<1x2x256x64xbf16> -> tensor<1x2x16x64xf32>
// CHECK: %[[S:.*]] = sattn.score %[[QP]], %[[KP]] {block_q = 128 : i64, group = 128 : i64, scale = 1.250000e-01 : f64, scoring = #sattn.scoring<levels = [128]>, seq_len = 256 : i64}
// CHECK-SAME: -> tensor<1x2x2x2xf32>
// CHECK: %[[G:.*]], %[[N:.*]], %{{.*}} = sattn.select %[[S]] {block_q = 128 : i64, group = 128 : i64, layout = #sattn.problem<heads = 2, head_dim = 64, grid = [1, 16, 16]>, selection = #sattn.selection<>}
// CHECK-NOT: sattn.tail_bins
// CHECK: %[[O:.*]] = sattn.sparse_attention %arg0, %arg1, %arg2, %[[G]], %[[N]] {block_k = 128 : i64, block_q = 128 : i64, scale = 1.250000e-01 : f64}
// CHECK-SAME: -> tensor<1x2x256x64xbf16>
// CHECK-NOT: sattn.unreorder
// CHECK-NOT: sattn.linear_attention
// CHECK: return %[[O]]
func.func @default(%q: tensor<1x2x256x64xbf16>, %k: tensor<1x2x256x64xbf16>, %v: tensor<1x2x256x64xbf16>) -> tensor<1x2x256x64xbf16> {
  %o = sattn.attention %q, %k, %v {variant = #sattn.variant<problem = <heads = 2, head_dim = 64, grid = [1, 16, 16]>>} : tensor<1x2x256x64xbf16>
  return %o : tensor<1x2x256x64xbf16>
}
