//===- Manifest.cpp - Writing NAME.manifest.json --------------------------===//

#include "compiler/Manifest.h"
#include "dialect/VariantJson.h"

#include <nlohmann/json.hpp>

namespace sattn {

int64_t ManifestBuffer::bytes() const {
  int64_t elements = 1;
  for (int64_t d : shape)
    elements *= d;
  int64_t width = (dtype == "bf16" || dtype == "f16") ? 2 : 4;
  return elements * width;
}

int64_t Manifest::workspaceBytes() const {
  int64_t total = 0;
  for (const ManifestBuffer &buffer : buffers)
    if (buffer.kind == ManifestBuffer::Kind::Workspace)
      total += buffer.bytes();
  return total;
}

const char *toString(ManifestBuffer::Kind kind) {
  switch (kind) {
  case ManifestBuffer::Kind::Input:
    return "input";
  case ManifestBuffer::Kind::Output:
    return "output";
  case ManifestBuffer::Kind::Workspace:
    return "workspace";
  }
  return "?";
}

const char *toString(ManifestParam::Role role) {
  switch (role) {
  case ManifestParam::Role::Buffer:
    return "buffer";
  case ManifestParam::Role::Stride:
    return "stride";
  case ManifestParam::Role::Scalar:
    return "scalar";
  }
  return "?";
}

std::string writeManifestJson(const Manifest &m) {
  using ojson = nlohmann::ordered_json;
  ojson buffers = ojson::array();
  for (const ManifestBuffer &b : m.buffers)
    buffers.push_back({{"name", b.name},
                       {"kind", toString(b.kind)},
                       {"dtype", b.dtype},
                       {"shape", b.shape},
                       {"bytes", b.bytes()}});
  ojson stages = ojson::array();
  for (const ManifestStage &s : m.stages)
    stages.push_back({{"op", s.op},
                      {"kernel", s.kernel.empty() ? ojson() : ojson(s.kernel)},
                      {"inputs", s.inputs},
                      {"outputs", s.outputs}});
  ojson kernels = ojson::array();
  for (const ManifestKernel &k : m.kernels) {
    ojson params = ojson::array();
    for (const ManifestParam &p : k.params) {
      ojson param = {{"role", toString(p.role)},
                     {"name", p.name},
                     {"type", p.type}};
      if (p.role == ManifestParam::Role::Stride)
        param["dim"] = p.dim;
      if (!p.buffer.empty())
        param["buffer"] = p.buffer;
      if (p.value) {
        if (p.type == "f32")
          param["value"] = *p.value;
        else
          param["value"] = int64_t(*p.value);
      }
      params.push_back(param);
    }
    kernels.push_back({{"name", k.name},
                       {"stage", k.stage},
                       {"grid", k.grid},
                       {"grid_formula", k.gridFormula},
                       {"block", k.block},
                       {"dynamic_shared_memory", k.dynamicSharedMemory},
                       {"params", params}});
  }
  ojson doc = {{"name", m.name},
               {"arch", m.arch},
               {"compiler", m.compiler},
               {"ptx", m.ptxFile},
               {"variant", ojson::parse(writeVariantJson(m.variant))},
               {"workspace_bytes", m.workspaceBytes()},
               {"buffers", buffers},
               {"stages", stages},
               {"kernels", kernels}};
  return doc.dump(2) + "\n";
}

} // namespace sattn
