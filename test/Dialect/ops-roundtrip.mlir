// RUN: sattn-opt %s | FileCheck %s
// RUN: sattn-opt %s | sattn-opt | FileCheck %s
// RUN: sattn-opt %s --mlir-print-op-generic | sattn-opt | FileCheck %s

#v = #sattn.variant<name = "v", problem = <heads = 2, grid = [2, 4, 8], text_tokens = 6>, block = <q = 64, k = 32>, tail = <bins = 2>>

// B = 1, H = 2, S = 2*4*8 + 6 = 70, D = 128; NQ = 2 blocks of 64; G = 3
// groups of 32 (2 groups of 64 at the coarse level).

// CHECK-LABEL: func.func @attention
// CHECK: %[[OUT:.*]] = sattn.attention %arg0, %arg1, %arg2 {variant = #v} : tensor<1x2x70x128xbf16>
// CHECK: return %[[OUT]]
func.func @attention(%q: tensor<1x2x70x128xbf16>, %k: tensor<1x2x70x128xbf16>,
                     %v: tensor<1x2x70x128xbf16>) -> tensor<1x2x70x128xbf16> {
  %o = sattn.attention %q, %k, %v {variant = #v} : tensor<1x2x70x128xbf16>
  return %o : tensor<1x2x70x128xbf16>
}

// CHECK-LABEL: func.func @stages
func.func @stages(%q: tensor<1x2x70x128xbf16>, %lse: tensor<1x2x70xf32>) {
  // CHECK: %reordered = sattn.reorder %arg0 <kind = hilbert3d> over <heads = 2, grid = [2, 4, 8], text_tokens = 6> : tensor<1x2x70x128xbf16>
  %qr = sattn.reorder %q <kind = hilbert3d> over <heads = 2, grid = [2, 4, 8], text_tokens = 6> : tensor<1x2x70x128xbf16>
  // CHECK: %unreordered = sattn.unreorder %reordered <kind = hilbert3d> over <heads = 2, grid = [2, 4, 8], text_tokens = 6> : tensor<1x2x70x128xbf16>
  %o = sattn.unreorder %qr <kind = hilbert3d> over <heads = 2, grid = [2, 4, 8], text_tokens = 6> : tensor<1x2x70x128xbf16>
  // Log-sum-exp rows are permuted the same way.
  // CHECK: sattn.unreorder %arg1 <kind = tile, tile = [1, 2, 2]> over <heads = 2, grid = [2, 4, 8], text_tokens = 6> : tensor<1x2x70xf32>
  %l = sattn.unreorder %lse <kind = tile, tile = [1, 2, 2]> over <heads = 2, grid = [2, 4, 8], text_tokens = 6> : tensor<1x2x70xf32>

  // CHECK: %means = sattn.pool %reordered tile 16 : tensor<1x2x70x128xbf16> -> tensor<1x2x5x128xf32>
  %qp = sattn.pool %qr tile 16 : tensor<1x2x70x128xbf16> -> tensor<1x2x5x128xf32>
  // CHECK: %scores = sattn.score %means, %means {block_q = 64 : i64, group = 64 : i64, scale = 8.838830e-02 : f64, scoring = #sattn.scoring<levels = [64, 32]>, seq_len = 70 : i64}
  // CHECK-SAME: (tensor<1x2x5x128xf32>, tensor<1x2x5x128xf32>) -> tensor<1x2x2x2xf32>
  %s0 = sattn.score %qp, %qp {block_q = 64 : i64, group = 64 : i64, scale = 0.0883883 : f64, scoring = #sattn.scoring<levels = [64, 32]>, seq_len = 70 : i64} : (tensor<1x2x5x128xf32>, tensor<1x2x5x128xf32>) -> tensor<1x2x2x2xf32>
  // CHECK: %groups, %counts, %recall = sattn.select %scores {block_q = 64 : i64, group = 64 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, selection = #sattn.selection<density = 0.5>}
  // CHECK-SAME: (tensor<1x2x2x2xf32>) -> (tensor<1x2x2x2xi32>, tensor<1x2x2xi32>, tensor<1x2x2xf32>)
  %g0, %n0, %r0 = sattn.select %s0 {block_q = 64 : i64, group = 64 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, selection = #sattn.selection<density = 0.5>} : (tensor<1x2x2x2xf32>) -> (tensor<1x2x2x2xi32>, tensor<1x2x2xi32>, tensor<1x2x2xf32>)
  // CHECK: sattn.score %means, %means parents(%groups, %counts, %scores) {block_q = 64 : i64, group = 32 : i64, parent_group = 64 : i64
  %s1 = sattn.score %qp, %qp parents(%g0, %n0, %s0) {block_q = 64 : i64, group = 32 : i64, parent_group = 64 : i64, scale = 0.0883883 : f64, scoring = #sattn.scoring<levels = [64, 32]>, seq_len = 70 : i64} : (tensor<1x2x5x128xf32>, tensor<1x2x5x128xf32>, tensor<1x2x2x2xi32>, tensor<1x2x2xi32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x3xf32>
  // CHECK: sattn.select %scores_{{[0-9]+}} parents(%groups, %counts) {adaptive = #sattn.adaptive<target_recall = 0.9>, block_q = 64 : i64, group = 32 : i64
  %g1, %n1, %r1 = sattn.select %s1 parents(%g0, %n0) {adaptive = #sattn.adaptive<target_recall = 0.9>, block_q = 64 : i64, group = 32 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, parent_group = 64 : i64, selection = #sattn.selection<>} : (tensor<1x2x2x3xf32>, tensor<1x2x2x2xi32>, tensor<1x2x2xi32>) -> (tensor<1x2x2x3xi32>, tensor<1x2x2xi32>, tensor<1x2x2xf32>)
  // Adaptive densities: a probe at a fixed density, the per-head densities,
  // and a selection that reads them.
  // CHECK: sattn.select %scores {block_q = 64 : i64, density = 5.000000e-01 : f64
  %pg, %pn, %pr = sattn.select %s0 {block_q = 64 : i64, density = 0.5 : f64, group = 64 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, selection = #sattn.selection<>} : (tensor<1x2x2x2xf32>) -> (tensor<1x2x2x2xi32>, tensor<1x2x2xi32>, tensor<1x2x2xf32>)
  // CHECK: %densities = sattn.adaptive_density %scores_{{[0-9]+}} parents(%groups_{{[0-9]+}}, %counts_{{[0-9]+}}) {adaptive = #sattn.adaptive<target_recall = 0.9>
  // CHECK-SAME: -> tensor<1x2xf64>
  %d = sattn.adaptive_density %s1 parents(%pg, %pn) {adaptive = #sattn.adaptive<target_recall = 0.9>, block_q = 64 : i64, group = 32 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, parent_group = 64 : i64, selection = #sattn.selection<>} : (tensor<1x2x2x3xf32>, tensor<1x2x2x2xi32>, tensor<1x2x2xi32>) -> tensor<1x2xf64>
  // CHECK: sattn.select %scores densities(%densities)
  %dg, %dn, %dr = sattn.select %s0 densities(%d) {block_q = 64 : i64, group = 64 : i64, layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, selection = #sattn.selection<>} : (tensor<1x2x2x2xf32>, tensor<1x2xf64>) -> (tensor<1x2x2x2xi32>, tensor<1x2x2xi32>, tensor<1x2x2xf32>)

  %kg = sattn.pool %qr tile 32 : tensor<1x2x70x128xbf16> -> tensor<1x2x3x128xf32>
  // CHECK: %tail_keys, %tail_values, %tail_log_counts = sattn.tail_bins
  // CHECK-SAME: {bins = 2 : i64, group = 32 : i64, seq_len = 70 : i64}
  // CHECK-SAME: -> (tensor<1x2x2x2x128xf32>, tensor<1x2x2x2x128xf32>, tensor<1x2x2x2xf32>)
  %tk, %tv, %tn = sattn.tail_bins %s1, %g1, %n1, %kg, %kg {bins = 2 : i64, group = 32 : i64, seq_len = 70 : i64} : (tensor<1x2x2x3xf32>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>, tensor<1x2x3x128xf32>, tensor<1x2x3x128xf32>) -> (tensor<1x2x2x2x128xf32>, tensor<1x2x2x2x128xf32>, tensor<1x2x2x2xf32>)

  // CHECK: %out = sattn.sparse_attention %reordered, %reordered, %reordered, %groups_{{[0-9]+}}, %counts_{{[0-9]+}} {block_k = 32 : i64, block_q = 64 : i64, scale = 8.838830e-02 : f64}
  %a = sattn.sparse_attention %qr, %qr, %qr, %g1, %n1 {block_k = 32 : i64, block_q = 64 : i64, scale = 0.0883883 : f64} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>) -> tensor<1x2x70x128xbf16>
  // CHECK: %out_{{[0-9]+}}, %lse = sattn.sparse_attention %reordered, %reordered, %reordered, %groups_{{[0-9]+}}, %counts_{{[0-9]+}} tail(%tail_keys, %tail_values, %tail_log_counts)
  // CHECK-SAME: -> (tensor<1x2x70x128xbf16>, tensor<1x2x70xf32>)
  %b, %blse = sattn.sparse_attention %qr, %qr, %qr, %g1, %n1 tail(%tk, %tv, %tn) {block_k = 32 : i64, block_q = 64 : i64, scale = 0.0883883 : f64} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>, tensor<1x2x2x2x128xf32>, tensor<1x2x2x2x128xf32>, tensor<1x2x2x2xf32>) -> (tensor<1x2x70x128xbf16>, tensor<1x2x70xf32>)

  // CHECK: sattn.linear_attention %arg0, %arg0, %arg0 {layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, linear = #sattn.linear<enabled = true, routing = [linear]>}
  %lin = sattn.linear_attention %q, %q, %q {layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, linear = #sattn.linear<enabled = true, routing = [linear]>} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>) -> tensor<1x2x70x128xbf16>
  // CHECK: sattn.linear_attention %arg0, %arg0, %arg0 merge(%out_{{[0-9]+}}, %lse)
  %hyb = sattn.linear_attention %q, %q, %q merge(%b, %blse) {layout = #sattn.problem<heads = 2, grid = [2, 4, 8], text_tokens = 6>, linear = #sattn.linear<enabled = true, routing = [sparse, hybrid]>} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70xf32>) -> tensor<1x2x70x128xbf16>
  return
}
