//===- Passes.td - sattn passes ----------------------------*- tablegen -*-===//

#ifndef SATTN_PASSES_TD
#define SATTN_PASSES_TD

include "mlir/Pass/PassBase.td"

def SattnExpand : Pass<"sattn-expand"> {
  let summary = "Expand sattn.attention into the stage ops its variant calls for";
  let description = [{
    Rewrites each `sattn.attention` into `sattn.reorder` (not for the identity
    order), `sattn.pool`, one `sattn.score` + `sattn.select` per scoring level
    (each finer level restricted to the children of the groups kept above),
    `sattn.tail_bins` (only with `tail.bins > 0`), `sattn.sparse_attention`,
    `sattn.unreorder` and `sattn.linear_attention` (only with
    `linear.enabled`), as SPEC §4 orders the stages.
  }];
  let dependentDialects = ["::sattn::SattnDialect"];
}

def SattnFuseReorder : Pass<"sattn-fuse-reorder"> {
  let summary = "Read q, k, v and write the output through the token order";
  let description = [{
    Folds `sattn.reorder` into the ops that read its result and
    `sattn.unreorder` into the sparse attention that feeds it: a
    `sattn.pool` of a reordered tensor becomes a pool of the original with
    `token_order` and `layout` set (its kernel reads row `pi(t)` for
    position `t`), and a `sattn.sparse_attention` of reordered q, k and v
    whose results are only un-reordered takes the originals, also with
    `token_order` (its kernel gathers the rows of each Q and K/V tile
    through the order and scatters the output rows back). The permuted
    copies, three full passes over q, k, v and one over the output, are
    gone; reorders left without users are erased. A sparse attention whose
    inputs are reordered by different orders, or whose results have other
    users, is left alone.
  }];
  let dependentDialects = ["::sattn::SattnDialect"];
}

def SattnInstantiateKernels : Pass<"sattn-instantiate-kernels", "::mlir::ModuleOp"> {
  let summary = "Instantiate a gpu.func from its template for each stage op";
  let description = [{
    For each stage op that has a kernel template, builds the kernel with the
    op's tile parameters fixed into the `gpu.module @sattn_kernels` of the
    module, and records it on the op as `kernel = @sattn_kernels::@name`.
    Each kernel carries its launch shape (`sattn.grid`, `sattn.block`,
    `sattn.dynamic_smem`) and the role of each parameter (`sattn.param`), from
    which the manifest is written.
  }];
  let options = [
    Option<"arch", "arch", "std::string", /*default=*/"\"sm_80\"",
           "target architecture: sm_80 or sm_90a">,
    Option<"attentionTemplate", "attention-template", "std::string",
           /*default=*/"\"auto\"",
           "sparse attention kernel: mma (tensor cores, mma.sync), wgmma "
           "(sm_90a tensor cores), wgmma-ws (sm_90a, warp-specialized: a load "
           "warpgroup and two consumer warpgroups), auto (on sm_90a "
           "wgmma-ws, else wgmma, where they take the tile parameters; else "
           "mma) or simt (portable, no tensor cores)">,
    Option<"keyTile", "key-tile", "int64_t", /*default=*/"0",
           "keys per shared-memory tile of the tensor-core templates: 32, "
           "64, 128, or 0 for the template's default (mma: 64; wgmma: 128 "
           "with head_dim 128, else 64; wgmma-ws: 128)">,
    Option<"stages", "stages", "int64_t", /*default=*/"2",
           "cp.async pipeline depth of the mma template">,
    Option<"warpRows", "warp-rows", "int64_t", /*default=*/"0",
           "query rows per warp of the mma template: 16, 32, or 0 for the "
           "default (32 with query blocks of 128, else 16)">,
    Option<"persistent", "persistent", "bool", /*default=*/"false",
           "wgmma-ws: a persistent grid, one CTA per multiprocessor walking "
           "the (query block, head, batch) items">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect",
    "::mlir::vector::VectorDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::NVVM::NVVMDialect"
  ];
}

def SattnTensorMapParams : Pass<"sattn-tensor-map-params", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Pass the kernels' TMA tensor maps by value, as grid constants";
  let description = [{
    Runs after `convert-gpu-to-nvvm`. A kernel lists in `sattn.tensor_maps`
    the arguments that are TMA tensor maps (`!llvm.ptr`, the address the
    `cp.async.bulk.tensor` ops read the map from). Each becomes a 128-byte,
    64-aligned by-value parameter marked `nvvm.grid_constant`, so that the
    PTX parameter is the `CUtensorMap` itself (`.param .align 64 .b8
    name[128]`) and the pointer is its generic address (`cvta.param`)
    instead of a copy in local memory. The runtime passes the map in the
    launch's parameters, with no device buffer and no copy per call.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect", "::mlir::NVVM::NVVMDialect"];
}

#endif // SATTN_PASSES_TD
