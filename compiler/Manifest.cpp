//===- Manifest.cpp - Writing NAME.manifest.json --------------------------===//

#include "compiler/Manifest.h"
#include "dialect/VariantJson.h"

#include <nlohmann/json.hpp>

namespace sattn {

int64_t ManifestBuffer::bytes() const {
  int64_t elements = 1;
  for (int64_t d : shape)
    elements *= d;
  int64_t width = dtype == "i8"                        ? 1
                  : (dtype == "bf16" || dtype == "f16") ? 2
                  : dtype == "f64"                      ? 8
                                                        : 4;
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
  case ManifestBuffer::Kind::Constant:
    return "constant";
  }
  return "?";
}

const char *toString(KernelWhen when) {
  switch (when) {
  case KernelWhen::Always:
    return "always";
  case KernelWhen::Sparse:
    return "sparse";
  case KernelWhen::Refresh:
    return "refresh";
  }
  return "?";
}

namespace {

template <typename Enum, size_t N>
bool parseEnum(const std::string &text, const Enum (&values)[N], Enum &out) {
  for (Enum value : values)
    if (text == toString(value)) {
      out = value;
      return true;
    }
  return false;
}

template <size_t N>
bool oneOf(const std::string &text, const char *const (&values)[N]) {
  for (const char *value : values)
    if (text == value)
      return true;
  return false;
}

} // namespace

const char *toString(ManifestParam::Role role) {
  switch (role) {
  case ManifestParam::Role::Buffer:
    return "buffer";
  case ManifestParam::Role::Stride:
    return "stride";
  case ManifestParam::Role::Scalar:
    return "scalar";
  case ManifestParam::Role::TensorMap:
    return "tensor_map";
  }
  return "?";
}

std::string writeManifestJson(const Manifest &m) {
  using ojson = nlohmann::ordered_json;
  ojson buffers = ojson::array();
  for (const ManifestBuffer &b : m.buffers) {
    ojson buffer = {{"name", b.name},
                    {"kind", toString(b.kind)},
                    {"dtype", b.dtype},
                    {"shape", b.shape},
                    {"bytes", b.bytes()}};
    if (b.kind == ManifestBuffer::Kind::Constant)
      buffer["fill"] = b.fill;
    buffers.push_back(buffer);
  }
  ojson stages = ojson::array();
  for (const ManifestStage &s : m.stages) {
    ojson stage = {{"op", s.op}, {"kernels", s.kernels}};
    if (!s.note.empty())
      stage["note"] = s.note;
    stage["inputs"] = s.inputs;
    stage["outputs"] = s.outputs;
    stages.push_back(stage);
  }
  ojson kernels = ojson::array();
  for (const ManifestKernel &k : m.kernels) {
    ojson params = ojson::array();
    for (const ManifestParam &p : k.params) {
      ojson param = {
          {"role", toString(p.role)}, {"name", p.name}, {"type", p.type}};
      if (p.role == ManifestParam::Role::Stride)
        param["dim"] = p.dim;
      if (p.role == ManifestParam::Role::TensorMap) {
        param["box"] = p.box;
        param["swizzle"] = p.swizzle;
      }
      if (!p.buffer.empty())
        param["buffer"] = p.buffer;
      if (!p.source.empty())
        param["source"] = p.source;
      if (p.value) {
        if (p.type == "f32" || p.type == "f64")
          param["value"] = *p.value;
        else
          param["value"] = int64_t(*p.value);
      }
      params.push_back(param);
    }
    kernels.push_back({{"name", k.name},
                       {"stage", k.stage},
                       {"when", toString(k.when)},
                       {"grid", k.grid},
                       {"grid_formula", k.gridFormula},
                       {"block", k.block},
                       {"dynamic_shared_memory", k.dynamicSharedMemory},
                       {"params", params}});
    if (!k.implementation.empty())
      kernels.back()["implementation"] = k.implementation;
    if (k.persistent)
      kernels.back()["persistent"] = true;
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

bool parseManifestJson(std::string_view text, Manifest &m, std::string &error) {
  using json = nlohmann::json;
  try {
    json doc = json::parse(text.begin(), text.end());
    m = Manifest();
    m.name = doc.at("name").get<std::string>();
    m.arch = doc.at("arch").get<std::string>();
    m.compiler = doc.at("compiler").get<std::string>();
    m.ptxFile = doc.at("ptx").get<std::string>();
    VariantResult variant = parseVariantJson(doc.at("variant").dump());
    if (!variant) {
      error = "variant: " + variant.issue.str();
      return false;
    }
    m.variant = *variant.variant;
    for (const json &b : doc.at("buffers")) {
      ManifestBuffer buffer;
      buffer.name = b.at("name").get<std::string>();
      std::string kind = b.at("kind").get<std::string>();
      constexpr ManifestBuffer::Kind kinds[] = {
          ManifestBuffer::Kind::Input, ManifestBuffer::Kind::Output,
          ManifestBuffer::Kind::Workspace, ManifestBuffer::Kind::Constant};
      if (!parseEnum(kind, kinds, buffer.kind)) {
        error = "buffers: kind \"" + kind + "\" is unknown";
        return false;
      }
      if (buffer.kind == ManifestBuffer::Kind::Constant) {
        buffer.fill = b.at("fill").get<std::string>();
        if (!oneOf(buffer.fill, kConstantFills)) {
          error = "buffers: constant fill \"" + buffer.fill + "\" is unknown";
          return false;
        }
      }
      buffer.dtype = b.at("dtype").get<std::string>();
      buffer.shape = b.at("shape").get<std::vector<int64_t>>();
      m.buffers.push_back(std::move(buffer));
    }
    for (const json &s : doc.at("stages")) {
      ManifestStage stage;
      stage.op = s.at("op").get<std::string>();
      stage.kernels = s.at("kernels").get<std::vector<std::string>>();
      stage.note = s.value("note", std::string());
      stage.inputs = s.at("inputs").get<std::vector<std::string>>();
      stage.outputs = s.at("outputs").get<std::vector<std::string>>();
      m.stages.push_back(std::move(stage));
    }
    for (const json &k : doc.at("kernels")) {
      ManifestKernel kernel;
      kernel.name = k.at("name").get<std::string>();
      kernel.stage = k.at("stage").get<std::string>();
      std::string when = k.at("when").get<std::string>();
      constexpr KernelWhen whens[] = {KernelWhen::Always, KernelWhen::Sparse,
                                      KernelWhen::Refresh};
      if (!parseEnum(when, whens, kernel.when)) {
        error = "kernels: when \"" + when + "\" is unknown";
        return false;
      }
      kernel.grid = k.at("grid").get<std::array<int64_t, 3>>();
      kernel.gridFormula =
          k.at("grid_formula").get<std::array<std::string, 3>>();
      kernel.block = k.at("block").get<std::array<int64_t, 3>>();
      kernel.dynamicSharedMemory = k.at("dynamic_shared_memory").get<int64_t>();
      kernel.implementation = k.value("implementation", std::string());
      kernel.persistent = k.value("persistent", false);
      for (const json &p : k.at("params")) {
        ManifestParam param;
        std::string role = p.at("role").get<std::string>();
        constexpr ManifestParam::Role roles[] = {
            ManifestParam::Role::Buffer, ManifestParam::Role::Stride,
            ManifestParam::Role::Scalar, ManifestParam::Role::TensorMap};
        if (!parseEnum(role, roles, param.role)) {
          error = "kernels: parameter role \"" + role + "\" is unknown";
          return false;
        }
        param.name = p.at("name").get<std::string>();
        param.type = p.at("type").get<std::string>();
        param.dim = p.value("dim", int64_t(-1));
        if (param.role == ManifestParam::Role::TensorMap) {
          param.box = p.at("box").get<std::array<int64_t, 2>>();
          param.swizzle = p.at("swizzle").get<int64_t>();
        }
        param.buffer = p.value("buffer", std::string());
        if (p.contains("value"))
          param.value = p.at("value").get<double>();
        param.source = p.value("source", std::string());
        if (!param.source.empty() && !oneOf(param.source, kScalarSources)) {
          error = "kernels: scalar source \"" + param.source + "\" is unknown";
          return false;
        }
        kernel.params.push_back(std::move(param));
      }
      m.kernels.push_back(std::move(kernel));
    }
  } catch (const std::exception &e) {
    std::string what = e.what();
    size_t start = what.find("] ");
    error = "not a sattn manifest: " +
            (start == std::string::npos ? what : what.substr(start + 2));
    return false;
  }
  return true;
}

} // namespace sattn
