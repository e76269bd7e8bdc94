// RUN: sattn-opt %s --sattn-expand | FileCheck %s

// Logit scoring pools queries per block and keys per group of each level;
// the finest keys' means serve the tail bins too. Adaptive densities come
// from a probe selection (Pipeline.cpp computeMask).

#v = #sattn.variant<name = "logit", problem = <heads = 1, grid = [1, 16, 16]>,
                    block = <q = 64, k = 32>,
                    scoring = <aggregate = logit, levels = [64, 32]>,
                    adaptive = <target_recall = 0.9>, tail = <bins = 2>>

// CHECK-LABEL: func.func @logit
// CHECK: %[[QP:.*]] = sattn.pool %arg0 tile 64 : {{.*}} -> tensor<1x1x4x128xf32>
// CHECK: %[[K64:.*]] = sattn.pool %arg1 tile 64 : {{.*}} -> tensor<1x1x4x128xf32>
// The first level's scores serve the probe and the final selection.
// CHECK: %[[S0:.*]] = sattn.score %[[QP]], %[[K64]] {{{.*}}scoring = #sattn.scoring<aggregate = logit, levels = [64, 32]>
// The probe: max_density (0.5) at every level but the last, whose scores
// give each head's estimated recall curve and density.
// CHECK: %[[PG:.*]], %[[PN:.*]], %{{.*}} = sattn.select %[[S0]] {block_q = 64 : i64, density = 5.000000e-01 : f64
// CHECK: %[[K32:.*]] = sattn.pool %arg1 tile 32 : {{.*}} -> tensor<1x1x8x128xf32>
// CHECK: %[[PS1:.*]] = sattn.score %[[QP]], %[[K32]] parents(%[[PG]], %[[PN]], %[[S0]])
// CHECK: %[[D:.*]] = sattn.adaptive_density %[[PS1]] parents(%[[PG]], %[[PN]]) {adaptive = #sattn.adaptive<target_recall = 0.9>
// CHECK-SAME: -> tensor<1x1xf64>
// The selection with each head's density, level by level.
// CHECK: %[[G0:.*]], %[[N0:.*]], %{{.*}} = sattn.select %[[S0]] densities(%[[D]])
// CHECK: %[[S1:.*]] = sattn.score %[[QP]], %[[K32]] parents(%[[G0]], %[[N0]], %[[S0]])
// CHECK: %[[G1:.*]], %[[N1:.*]], %{{.*}} = sattn.select %[[S1]] parents(%[[G0]], %[[N0]]) densities(%[[D]])
// CHECK-NOT: sattn.pool %arg1 tile 32
// CHECK: %[[VG:.*]] = sattn.pool %arg2 tile 32
// CHECK: sattn.tail_bins %[[S1]], %[[G1]], %[[N1]], %[[K32]], %[[VG]]
func.func @logit(%q: tensor<1x1x256x128xbf16>, %k: tensor<1x1x256x128xbf16>, %v: tensor<1x1x256x128xbf16>) -> tensor<1x1x256x128xbf16> {
  %o = sattn.attention %q, %k, %v {variant = #v} : tensor<1x1x256x128xbf16>
  return %o : tensor<1x1x256x128xbf16>
}
