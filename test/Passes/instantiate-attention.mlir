// RUN: sattn-opt %s --sattn-instantiate-kernels="arch=sm_80 attention-template=simt" -split-input-file -verify-diagnostics | FileCheck %s

// One gpu.func per sparse_attention op, in @sattn_kernels. Its parameters
// are raw global pointers and scalars, one PTX parameter each, tagged with
// their role for the manifest; the stage op records its kernel.

// CHECK: module attributes {gpu.container_module}
// CHECK-LABEL: func.func @tail
// CHECK: sattn.sparse_attention {{.*}}sattn.kernels = [@sattn_kernels::@sattn_sparse_attention]
// CHECK: sattn.sparse_attention {{.*}}sattn.kernels = [@sattn_kernels::@sattn_sparse_attention_1]
// CHECK: gpu.module @sattn_kernels
// CHECK: gpu.func @sattn_sparse_attention(
// CHECK-SAME: %{{.*}}: !llvm.ptr<1> {sattn.param = {name = "q", operand = 0 : i64, role = "buffer"}}
// CHECK-SAME: %{{.*}}: !llvm.ptr<1> {sattn.param = {name = "k", operand = 1 : i64, role = "buffer"}}
// CHECK-SAME: %{{.*}}: !llvm.ptr<1> {sattn.param = {name = "v", operand = 2 : i64, role = "buffer"}}
// CHECK-SAME: %{{.*}}: !llvm.ptr<1> {sattn.param = {name = "out", result = 0 : i64, role = "buffer"}}
// CHECK-SAME: %{{.*}}: i64 {sattn.param = {dim = 0 : i64, name = "q", role = "stride"}}
// CHECK-SAME: %{{.*}}: !llvm.ptr<1> {sattn.param = {name = "groups", operand = 3 : i64, role = "buffer"}}
// CHECK-SAME: %{{.*}}: !llvm.ptr<1> {sattn.param = {name = "counts", operand = 4 : i64, role = "buffer"}}
// CHECK-SAME: %{{.*}}: !llvm.ptr<1> {sattn.param = {name = "tail_keys", operand = 5 : i64, role = "buffer"}}
// CHECK-SAME: %{{.*}}: !llvm.ptr<1> {sattn.param = {name = "tail_values", operand = 6 : i64, role = "buffer"}}
// CHECK-SAME: %{{.*}}: !llvm.ptr<1> {sattn.param = {name = "tail_log_counts", operand = 7 : i64, role = "buffer"}}
// CHECK-SAME: %{{.*}}: i32 {sattn.param = {name = "seq_len", role = "scalar", value = 70 : i32}}
// CHECK-SAME: %{{.*}}: i32 {sattn.param = {name = "capacity", role = "scalar", value = 3 : i32}}
// CHECK-SAME: %{{.*}}: f32 {sattn.param = {name = "scale", role = "scalar", value = 1.250000e-01 : f32}}
// CHECK-SAME: %{{.*}}: i32 {sattn.param = {name = "dense", role = "scalar", source = "dense"}})
// CHECK-SAME: kernel
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK-SAME: sattn.dynamic_smem = 0 : i64
// CHECK-SAME: sattn.grid = array<i64: 2, 2, 1>
// CHECK-SAME: sattn.grid_formula = ["ceildiv(S, 64)", "H", "B"]
// CHECK-SAME: sattn.stage = "sparse_attention"
// CHECK-SAME: sattn.when = "always"
// The online softmax: warp-wide dot products, base-2 exponentials.
// CHECK: gpu.shuffle xor
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK: gpu.return
// Without tail bins, no tail parameters; with an lse result, one more buffer.
// CHECK: gpu.func @sattn_sparse_attention_1(
// CHECK-NOT: tail_keys
// CHECK-SAME: {sattn.param = {name = "lse", result = 1 : i64, role = "buffer"}}
func.func @tail(%q: tensor<1x2x70x128xbf16>, %g: tensor<1x2x2x3xi32>, %n: tensor<1x2x2xi32>,
                %tk: tensor<1x2x2x4x128xf32>, %tn: tensor<1x2x2x4xf32>) {
  %o = sattn.sparse_attention %q, %q, %q, %g, %n tail(%tk, %tk, %tn) {block_k = 32 : i64, block_q = 64 : i64, scale = 0.125 : f64} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>, tensor<1x2x2x4x128xf32>, tensor<1x2x2x4x128xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x70x128xbf16>
  %o2, %lse = sattn.sparse_attention %q, %q, %q, %g, %n {block_k = 32 : i64, block_q = 64 : i64, scale = 0.125 : f64} : (tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x70x128xbf16>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>) -> (tensor<1x2x70x128xbf16>, tensor<1x2x70xf32>)
  return
}

// -----

func.func @f32(%q: tensor<1x2x70x128xf32>, %g: tensor<1x2x2x3xi32>, %n: tensor<1x2x2xi32>) {
  // expected-error @+1 {{'sattn.sparse_attention' op problem.dtype: the GPU kernels take bf16 or fp16 operands, not 'f32' (allowed: bf16, fp16)}}
  %o = sattn.sparse_attention %q, %q, %q, %g, %n {block_k = 32 : i64, block_q = 64 : i64, scale = 0.125 : f64} : (tensor<1x2x70x128xf32>, tensor<1x2x70x128xf32>, tensor<1x2x70x128xf32>, tensor<1x2x2x3xi32>, tensor<1x2x2xi32>) -> tensor<1x2x70x128xf32>
  return
}

// -----

func.func @dynamic(%q: tensor<1x2x?x128xbf16>, %g: tensor<1x2x?x3xi32>, %n: tensor<1x2x?xi32>) {
  // expected-error @+1 {{'sattn.sparse_attention' op needs static shapes to instantiate a kernel}}
  %o = sattn.sparse_attention %q, %q, %q, %g, %n {block_k = 32 : i64, block_q = 64 : i64, scale = 0.125 : f64} : (tensor<1x2x?x128xbf16>, tensor<1x2x?x128xbf16>, tensor<1x2x?x128xbf16>, tensor<1x2x?x3xi32>, tensor<1x2x?xi32>) -> tensor<1x2x?x128xbf16>
  return
}
