//===- Manifest.h - What the runtime needs to launch a variant --*- C++ -*-===//
//
// `NAME.manifest.json`, written by the compiler next to `NAME.ptx` (SPEC §5):
// the buffers of the pipeline (inputs, output, workspace), the stages in
// order with the buffers they read and write, and per kernel its launch
// shape and its parameters in PTX order, each bound to a buffer, a buffer's
// stride or a scalar value. With it the runtime launches a variant with no
// per-variant host code. Plain C++ (nlohmann/json inside Manifest.cpp), so
// the runtime reads it without MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_MANIFEST_H
#define SATTN_COMPILER_MANIFEST_H

#include "dialect/VariantParams.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sattn {

/// A tensor the pipeline reads or writes. Constants are tables the runtime
/// fills once at plan creation from the variant alone (no per-variant host
/// code: `fill` names what, see kConstantFills).
struct ManifestBuffer {
  enum class Kind { Input, Output, Workspace, Constant };
  std::string name;
  Kind kind = Kind::Workspace;
  std::string fill; // constants: "token_order" or "frames"
  std::string dtype; // "bf16", "f16", "f32", "i32"
  std::vector<int64_t> shape;
  int64_t bytes() const;
};

/// One PTX parameter of a kernel, in order.
///
/// A tensor map ("tensor_map", type "tensormap") is a 128-byte CUtensorMap
/// passed by value that the runtime encodes per call (cuTensorMapEncodeTiled)
/// over the bound buffer, a [B, H, S, D] tensor with the call's strides
/// (head_dim contiguous): four dimensions (D, S, H, B) from the innermost,
/// `box` elements of D by rows of S per load, 1 of H and B, `swizzle`-byte
/// shared-memory swizzle, out-of-bounds rows read as zeros.
struct ManifestParam {
  enum class Role { Buffer, Stride, Scalar, TensorMap };
  Role role = Role::Scalar;
  std::string name;   // kernel-side name ("q", "seq_len"); for strides and
                      // tensor maps the buffer parameter they describe
  std::string type;   // "ptr", "i32", "i64", "f32", "tensormap"
  int64_t dim = -1;   // strides: 0 batch, 1 head, 2 token (in elements)
  std::array<int64_t, 2> box{0, 0}; // tensor maps: columns of D, rows of S
  int64_t swizzle = 0;              // tensor maps: 0, 32, 64 or 128 bytes
  std::string buffer; // buffers, strides and tensor maps: the pipeline
                      // buffer bound
  std::optional<double> value; // scalars fixed at compile time
  /// Scalars the runtime sets per step instead: "density" (f32, the
  /// schedule's topk density of the step) or "dense" (i32, 1 on a dense
  /// warm-up step, else 0). Empty: `value` holds it.
  std::string source;
};

/// When the runtime launches a kernel (SPEC §4 schedule).
enum class KernelWhen {
  Always,  // every step, dense warm-up steps included
  Sparse,  // every step that attends with a mask (refreshes and reuses)
  Refresh, // only when the mask is recomputed
};

struct ManifestKernel {
  std::string name;  // PTX entry
  std::string stage; // the stage op it implements
  KernelWhen when = KernelWhen::Always;
  std::array<int64_t, 3> grid{1, 1, 1};
  std::array<std::string, 3> gridFormula;
  std::array<int64_t, 3> block{1, 1, 1};
  int64_t dynamicSharedMemory = 0;
  std::vector<ManifestParam> params;
  /// The attention kernel's template and tile ("wgmma key_tile=128
  /// stages=2"); empty for the other stages' kernels.
  std::string implementation;
  /// A persistent kernel: `grid` counts its work items (grid[0]; the other
  /// two are 1) and the runtime launches min(grid[0], multiprocessors) CTAs
  /// (one per SM), each walking items blockIdx.x, + gridDim.x, ...
  bool persistent = false;
};

struct ManifestStage {
  std::string op;     // "sattn.pool"
  /// Its kernels in launch order; empty: no kernel template for this stage
  /// yet (the runtime refuses to plan such a variant).
  std::vector<std::string> kernels;
  std::vector<std::string> inputs, outputs;
  /// Without kernels: why ("adaptive per-head densities", a limit of the
  /// stage's kernel); empty when no template exists for the op.
  std::string note;
};

struct Manifest {
  std::string name;
  std::string arch;
  std::string compiler; // "sattn 0.1.0 (MLIR 22.1.8)"
  std::string ptxFile;
  VariantParams variant;
  std::vector<ManifestBuffer> buffers;
  std::vector<ManifestStage> stages;
  std::vector<ManifestKernel> kernels;

  int64_t workspaceBytes() const;
};

std::string writeManifestJson(const Manifest &manifest);
/// Reads a manifest written by writeManifestJson; on failure returns false
/// with `error` saying which field is wrong.
bool parseManifestJson(std::string_view text, Manifest &manifest,
                       std::string &error);

const char *toString(ManifestBuffer::Kind kind);
const char *toString(ManifestParam::Role role);
const char *toString(KernelWhen when);

/// What a constant buffer may be filled with: "token_order" (i32 [S], the
/// original token at each reordered position, π of SPEC §4.1) and "frames"
/// (i32 [S], the frame of the token at each reordered position, -1 for text).
inline constexpr const char *kConstantFills[] = {"token_order", "frames"};

/// The per-step scalar sources a kernel parameter may name.
inline constexpr const char *kScalarSources[] = {"density", "dense"};

} // namespace sattn

#endif // SATTN_COMPILER_MANIFEST_H
