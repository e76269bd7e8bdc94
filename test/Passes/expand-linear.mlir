// RUN: sattn-opt %s --sattn-expand -split-input-file | FileCheck %s

// Hybrid routing: the sparse path also returns each row's log-sum-exp; both
// are put back in frame-major order and merged with the linear path, which
// works on the original q, k, v.

#hybrid = #sattn.variant<name = "hybrid", problem = <heads = 2, head_dim = 64, grid = [2, 8, 8]>,
                         reorder = <kind = hilbert2d>, linear = <enabled = true>>

// CHECK-LABEL: func.func @hybrid
// CHECK: %[[O:.*]], %[[LSE:.*]] = sattn.sparse_attention
// CHECK-SAME: -> (tensor<1x2x128x64xbf16>, tensor<1x2x128xf32>)
// CHECK: %[[OU:.*]] = sattn.unreorder %[[O]] <kind = hilbert2d>
// CHECK: %[[LU:.*]] = sattn.unreorder %[[LSE]] <kind = hilbert2d> {{.*}} : tensor<1x2x128xf32>
// CHECK: %[[R:.*]] = sattn.linear_attention %arg0, %arg1, %arg2 merge(%[[OU]], %[[LU]]) {layout = #sattn.problem<heads = 2, head_dim = 64, grid = [2, 8, 8]>, linear = #sattn.linear<enabled = true>}
// CHECK: return %[[R]]
func.func @hybrid(%q: tensor<1x2x128x64xbf16>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>) -> tensor<1x2x128x64xbf16> {
  %o = sattn.attention %q, %k, %v {variant = #hybrid} : tensor<1x2x128x64xbf16>
  return %o : tensor<1x2x128x64xbf16>
}

// -----

// Every head linear: no sparse stages at all.
#linear = #sattn.variant<name = "linear", problem = <heads = 2, head_dim = 64, grid = [2, 8, 8]>,
                         reorder = <kind = hilbert2d>, linear = <enabled = true, routing = [linear]>>

// CHECK-LABEL: func.func @linear_only
// CHECK-NOT: sattn.reorder
// CHECK-NOT: sattn.sparse_attention
// CHECK: %[[R:.*]] = sattn.linear_attention %arg0, %arg1, %arg2 {
// CHECK-NEXT: return %[[R]]
func.func @linear_only(%q: tensor<1x2x128x64xbf16>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>) -> tensor<1x2x128x64xbf16> {
  %o = sattn.attention %q, %k, %v {variant = #linear} : tensor<1x2x128x64xbf16>
  return %o : tensor<1x2x128x64xbf16>
}
