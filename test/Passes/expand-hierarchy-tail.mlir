// RUN: sattn-opt %s --sattn-expand | FileCheck %s

// Hilbert order, two scoring levels (128 then 32), four tail bins.
// S = 2*8*16 + 6 text tokens = 262: NQ = 3 query blocks of 128; 3 groups of
// 128 at the coarse level, 9 groups of 32 at the fine level.

#wan = #sattn.variant<name = "wan", problem = <heads = 2, grid = [2, 8, 16], text_tokens = 6>,
                      reorder = <kind = hilbert3d>, block = <k = 32>,
                      scoring = <levels = [128, 32]>, tail = <bins = 4>>

// CHECK-LABEL: func.func @wan
// q, k and v are reordered once each.
// CHECK: %[[QR:.*]] = sattn.reorder %arg0 <kind = hilbert3d> over <heads = 2, grid = [2, 8, 16], text_tokens = 6>
// CHECK: %[[KR:.*]] = sattn.reorder %arg1 <kind = hilbert3d>
// CHECK: %[[VR:.*]] = sattn.reorder %arg2 <kind = hilbert3d>
// The scoring tiles are pooled once and shared by both levels.
// CHECK: %[[QP:.*]] = sattn.pool %[[QR]] tile 16 : {{.*}} -> tensor<1x2x17x128xf32>
// CHECK: %[[KP:.*]] = sattn.pool %[[KR]] tile 16
// Level 128: dense scores, then selection.
// CHECK: %[[S0:.*]] = sattn.score %[[QP]], %[[KP]] {block_q = 128 : i64, group = 128 : i64
// CHECK-SAME: -> tensor<1x2x3x3xf32>
// CHECK: %[[G0:.*]], %[[N0:.*]], %{{.*}} = sattn.select %[[S0]] {block_q = 128 : i64, group = 128 : i64
// CHECK-SAME: -> (tensor<1x2x3x3xi32>, tensor<1x2x3xi32>, tensor<1x2x3xf32>)
// Level 32: only children of the kept groups, which the selection keeps to.
// CHECK: %[[S1:.*]] = sattn.score %[[QP]], %[[KP]] parents(%[[G0]], %[[N0]], %[[S0]]) {block_q = 128 : i64, group = 32 : i64, parent_group = 128 : i64
// CHECK-SAME: -> tensor<1x2x3x9xf32>
// CHECK: %[[G1:.*]], %[[N1:.*]], %{{.*}} = sattn.select %[[S1]] parents(%[[G0]], %[[N0]]) {block_q = 128 : i64, group = 32 : i64
// CHECK-SAME: parent_group = 128 : i64
// CHECK-SAME: -> (tensor<1x2x3x9xi32>, tensor<1x2x3xi32>, tensor<1x2x3xf32>)
// Tail bins from the fine scores and per-group means of k and v.
// CHECK: %[[KG:.*]] = sattn.pool %[[KR]] tile 32 : {{.*}} -> tensor<1x2x9x128xf32>
// CHECK: %[[VG:.*]] = sattn.pool %[[VR]] tile 32
// CHECK: %[[TK:.*]], %[[TV:.*]], %[[TN:.*]] = sattn.tail_bins %[[S1]], %[[G1]], %[[N1]], %[[KG]], %[[VG]] {bins = 4 : i64, group = 32 : i64, seq_len = 262 : i64}
// CHECK-SAME: -> (tensor<1x2x3x4x128xf32>, tensor<1x2x3x4x128xf32>, tensor<1x2x3x4xf32>)
// CHECK: %[[O:.*]] = sattn.sparse_attention %[[QR]], %[[KR]], %[[VR]], %[[G1]], %[[N1]] tail(%[[TK]], %[[TV]], %[[TN]]) {block_k = 32 : i64, block_q = 128 : i64
// CHECK: %[[U:.*]] = sattn.unreorder %[[O]] <kind = hilbert3d>
// CHECK: return %[[U]]
func.func @wan(%q: tensor<1x2x262x128xbf16>, %k: tensor<1x2x262x128xbf16>, %v: tensor<1x2x262x128xbf16>) -> tensor<1x2x262x128xbf16> {
  %o = sattn.attention %q, %k, %v {variant = #wan} : tensor<1x2x262x128xbf16>
  return %o : tensor<1x2x262x128xbf16>
}
