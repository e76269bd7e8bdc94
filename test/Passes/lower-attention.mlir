// RUN: sattn-opt %s --sattn-instantiate-kernels="arch=sm_80 attention-template=simt" | sattn-opt \
// RUN:   --pass-pipeline="builtin.module(gpu.module(convert-vector-to-scf,convert-scf-to-cf,expand-strided-metadata,convert-arith-to-llvm,convert-index-to-llvm,canonicalize,convert-gpu-to-nvvm,reconcile-unrealized-casts))" \
// RUN: | FileCheck %s --check-prefix=NVVM
// RUN: sattn-opt %s --sattn-instantiate-kernels=arch=sm_80 | sattn-opt \
// RUN:   --pass-pipeline="builtin.module(gpu.module(convert-nvgpu-to-nvvm,convert-vector-to-scf,convert-scf-to-cf,expand-strided-metadata,convert-arith-to-llvm,convert-index-to-llvm,canonicalize,convert-gpu-to-nvvm,reconcile-unrealized-casts))" \
// RUN: | FileCheck %s --check-prefix=MMA
// RUN: sattn-opt %s --sattn-to-ptx=arch=sm_80 | FileCheck %s --check-prefix=SM80
// RUN: sattn-opt %s --sattn-to-ptx=arch=sm_90a | FileCheck %s --check-prefix=SM90

// The kernel lowers to NVVM with one LLVM parameter per gpu.func argument
// (the raw-pointer convention: no memref descriptors in the signature).
// NVVM: llvm.func @sattn_sparse_attention(%{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: !llvm.ptr<1>, %{{.*}}: !llvm.ptr<1>, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: f32, %{{.*}}: i32)
// NVVM-SAME: gpu.kernel
// NVVM-SAME: nvvm.kernel
// NVVM-SAME: nvvm.maxntid = array<i32: 128, 1, 1>
// NVVM: nvvm.read.ptx.sreg.ctaid.x
// 64-wide rows: each lane loads two fp16 values at once.
// NVVM: llvm.load {{.*}} {alignment = 4 : i64} : !llvm.ptr<1> -> vector<2xf16>
// NVVM: nvvm.shfl.sync bfly
// NVVM: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"

// The tensor-core kernel: dynamic shared memory of its own, aligned for
// swizzle-free 16-byte copies; cp.async loads with zero fill; ldmatrix of Q
// and K, ldmatrix.trans of V; 32 + 32 mma.sync m16n8k16 per 64-key tile
// (head_dim 64, fp16).
// MMA: llvm.mlir.global external @sattn_dynamic_shared() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<0 x i8>
// MMA: llvm.func @sattn_sparse_attention(
// MMA-SAME: nvvm.maxntid = array<i32: 128, 1, 1>
// MMA-SAME: sattn.dynamic_smem = 47112 : i64
// MMA: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// MMA: nvvm.cp.async.commit.group
// MMA: nvvm.cp.async.wait.group 1
// MMA: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>, num = 4
// MMA-COUNT-32: nvvm.mma.sync {{.*}} {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32)
// MMA: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<col>, num = 4
// MMA-COUNT-32: nvvm.mma.sync

// The PTX is the object of a gpu.binary, for the chip asked for.
// SM80: gpu.binary @sattn_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">, {{.*}}assembly = "
// SM80-SAME: .target sm_80
// SM80-SAME: .extern .shared .align 1024 .b8 sattn_dynamic_shared[];
// SM80-SAME: .visible .entry sattn_sparse_attention(
// SM80-SAME: .maxntid 128, 1, 1
// SM80-SAME: cp.async.cg.shared.global
// SM80-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// SM80-SAME: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// SM80-SAME: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// SM90: gpu.binary @sattn_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, {{.*}}assembly = "
// SM90-SAME: .target sm_90a
// SM90-SAME: .visible .entry sattn_sparse_attention(

func.func @f(%q: tensor<2x3x100x64xf16>, %g: tensor<2x3x2x7xi32>, %n: tensor<2x3x2xi32>) {
  %o = sattn.sparse_attention %q, %q, %q, %g, %n {block_k = 16 : i64, block_q = 64 : i64, scale = 0.125 : f64} : (tensor<2x3x100x64xf16>, tensor<2x3x100x64xf16>, tensor<2x3x100x64xf16>, tensor<2x3x2x7xi32>, tensor<2x3x2xi32>) -> tensor<2x3x100x64xf16>
  return
}
