// RUN: not sattn-opt %s --sattn-instantiate-kernels=arch=sm_75 2>&1 | FileCheck %s

// CHECK: error: target.arch: unknown value "sm_75" (allowed: sm_80, sm_90a)
func.func @f(%q: tensor<1x1x64x64xbf16>, %g: tensor<1x1x1x1xi32>, %n: tensor<1x1x1xi32>) {
  %o = sattn.sparse_attention %q, %q, %q, %g, %n {block_k = 64 : i64, block_q = 64 : i64, scale = 0.125 : f64} : (tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x1x1xi32>, tensor<1x1x1xi32>) -> tensor<1x1x64x64xbf16>
  return
}
