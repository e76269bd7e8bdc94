// RUN: sattn-opt %s --sattn-expand --sattn-fuse-reorder -split-input-file | FileCheck %s

// The pools and the attention read the original q, k, v through the token
// order; no reorder or unreorder is left, and the tail bins and selection
// are untouched (they work on pooled, reordered positions).

#wan = #sattn.variant<name = "wan", problem = <heads = 2, grid = [2, 8, 16], text_tokens = 6>,
                      reorder = <kind = hilbert3d>, block = <k = 32>,
                      scoring = <levels = [128, 32]>, tail = <bins = 4>>

// CHECK-LABEL: func.func @wan
// CHECK-NOT: sattn.reorder
// CHECK: %[[QP:.*]] = sattn.pool %arg0 tile 16 {layout = #sattn.problem<heads = 2, grid = [2, 8, 16], text_tokens = 6>, token_order = #sattn.reorder<kind = hilbert3d>}
// CHECK: %[[KP:.*]] = sattn.pool %arg1 tile 16 {layout
// CHECK: sattn.pool %arg1 tile 32 {layout
// CHECK: sattn.pool %arg2 tile 32 {layout
// CHECK: %[[O:.*]] = sattn.sparse_attention %arg0, %arg1, %arg2, %{{.*}}, %{{.*}} tail(%{{.*}}, %{{.*}}, %{{.*}}) {block_k = 32 : i64, block_q = 128 : i64, layout = #sattn.problem<heads = 2, grid = [2, 8, 16], text_tokens = 6>, scale = {{.*}}, token_order = #sattn.reorder<kind = hilbert3d>}
// CHECK-NOT: sattn.unreorder
// CHECK: return %[[O]]
func.func @wan(%q: tensor<1x2x262x128xbf16>, %k: tensor<1x2x262x128xbf16>, %v: tensor<1x2x262x128xbf16>) -> tensor<1x2x262x128xbf16> {
  %o = sattn.attention %q, %k, %v {variant = #wan} : tensor<1x2x262x128xbf16>
  return %o : tensor<1x2x262x128xbf16>
}

// -----

// Hybrid routing: the log-sum-exp comes out in frame-major order too, and
// the linear path merges both directly.
#hybrid = #sattn.variant<name = "hybrid", problem = <heads = 2, head_dim = 64, grid = [2, 8, 8]>,
                         reorder = <kind = hilbert2d>, linear = <enabled = true>>

// CHECK-LABEL: func.func @hybrid
// CHECK: %[[O:.*]], %[[LSE:.*]] = sattn.sparse_attention %arg0, %arg1, %arg2
// CHECK-SAME: token_order = #sattn.reorder<kind = hilbert2d>
// CHECK-NOT: sattn.unreorder
// CHECK: sattn.linear_attention %arg0, %arg1, %arg2 merge(%[[O]], %[[LSE]])
func.func @hybrid(%q: tensor<1x2x128x64xbf16>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>) -> tensor<1x2x128x64xbf16> {
  %o = sattn.attention %q, %k, %v {variant = #hybrid} : tensor<1x2x128x64xbf16>
  return %o : tensor<1x2x128x64xbf16>
}

// -----

// An attention whose output is used in reordered form is left alone (and
// so are its reorders); the pool of the same reordered q still fuses.
// CHECK-LABEL: func.func @kept
// CHECK: %[[QR:.*]] = sattn.reorder %arg0
// CHECK: sattn.pool %arg0 tile 16 {layout
// CHECK: %[[O:.*]] = sattn.sparse_attention %[[QR]], %[[QR]], %[[QR]]
// CHECK-NOT: token_order
// CHECK: return %[[O]]
func.func @kept(%q: tensor<1x1x128x64xbf16>, %g: tensor<1x1x1x4xi32>, %n: tensor<1x1x1xi32>) -> (tensor<1x1x128x64xbf16>, tensor<1x1x8x64xf32>) {
  %qr = sattn.reorder %q <kind = hilbert2d> over <heads = 1, head_dim = 64, grid = [1, 8, 16]> : tensor<1x1x128x64xbf16>
  %m = sattn.pool %qr tile 16 : tensor<1x1x128x64xbf16> -> tensor<1x1x8x64xf32>
  %out = sattn.sparse_attention %qr, %qr, %qr, %g, %n {block_k = 32 : i64, block_q = 128 : i64, scale = 0.125 : f64} : (tensor<1x1x128x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x1x1x4xi32>, tensor<1x1x1xi32>) -> tensor<1x1x128x64xbf16>
  return %out, %m : tensor<1x1x128x64xbf16>, tensor<1x1x8x64xf32>
}
