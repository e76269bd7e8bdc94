// RUN: sattn-opt %s --sattn-expand | FileCheck %s

// Logit scoring pools queries per block and keys per group of each level;
// the finest keys' means serve the tail bins too. The adaptive density
// travels with each selection.

#v = #sattn.variant<name = "logit", problem = <heads = 1, grid = [1, 16, 16]>,
                    block = <q = 64, k = 32>,
                    scoring = <aggregate = logit, levels = [64, 32]>,
                    adaptive = <target_recall = 0.9>, tail = <bins = 2>>

// CHECK-LABEL: func.func @logit
// CHECK: %[[QP:.*]] = sattn.pool %arg0 tile 64 : {{.*}} -> tensor<1x1x4x128xf32>
// CHECK: %[[K64:.*]] = sattn.pool %arg1 tile 64 : {{.*}} -> tensor<1x1x4x128xf32>
// CHECK: %[[S0:.*]] = sattn.score %[[QP]], %[[K64]] {{{.*}}scoring = #sattn.scoring<aggregate = logit, levels = [64, 32]>
// CHECK: sattn.select %[[S0]] {adaptive = #sattn.adaptive<target_recall = 0.9>
// CHECK: %[[K32:.*]] = sattn.pool %arg1 tile 32 : {{.*}} -> tensor<1x1x8x128xf32>
// CHECK: %[[S1:.*]] = sattn.score %[[QP]], %[[K32]] parents
// CHECK: %[[G1:.*]], %[[N1:.*]], %{{.*}} = sattn.select %[[S1]] parents
// CHECK-SAME: adaptive = #sattn.adaptive<target_recall = 0.9>
// CHECK-NOT: sattn.pool %arg1 tile 32
// CHECK: %[[VG:.*]] = sattn.pool %arg2 tile 32
// CHECK: sattn.tail_bins %[[S1]], %[[G1]], %[[N1]], %[[K32]], %[[VG]]
func.func @logit(%q: tensor<1x1x256x128xbf16>, %k: tensor<1x1x256x128xbf16>, %v: tensor<1x1x256x128xbf16>) -> tensor<1x1x256x128xbf16> {
  %o = sattn.attention %q, %k, %v {variant = #v} : tensor<1x1x256x128xbf16>
  return %o : tensor<1x1x256x128xbf16>
}
