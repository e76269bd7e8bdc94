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

/// A tensor the pipeline reads or writes.
struct ManifestBuffer {
  enum class Kind { Input, Output, Workspace };
  std::string name;
  Kind kind = Kind::Workspace;
  std::string dtype; // "bf16", "f16", "f32", "i32"
  std::vector<int64_t> shape;
  int64_t bytes() const;
};

/// One PTX parameter of a kernel, in order.
struct ManifestParam {
  enum class Role { Buffer, Stride, Scalar };
  Role role = Role::Scalar;
  std::string name;   // kernel-side name ("q", "seq_len"); for strides the
                      // buffer parameter whose stride it is
  std::string type;   // "ptr", "i32", "i64", "f32"
  int64_t dim = -1;   // strides: 0 batch, 1 head, 2 token (in elements)
  std::string buffer; // buffers and strides: the pipeline buffer bound
  std::optional<double> value; // scalars
};

struct ManifestKernel {
  std::string name;  // PTX entry
  std::string stage; // the stage op it implements
  std::array<int64_t, 3> grid{1, 1, 1};
  std::array<std::string, 3> gridFormula;
  std::array<int64_t, 3> block{1, 1, 1};
  int64_t dynamicSharedMemory = 0;
  std::vector<ManifestParam> params;
};

struct ManifestStage {
  std::string op;     // "sattn.pool"
  std::string kernel; // empty: no kernel template for this stage yet
  std::vector<std::string> inputs, outputs;
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

} // namespace sattn

#endif // SATTN_COMPILER_MANIFEST_H
