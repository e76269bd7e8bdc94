//===- LaunchProgram.cpp - A manifest turned into launches ----------------===//

#include "runtime/LaunchProgram.h"

#include <cstring>

namespace sattn {
namespace {

template <typename T> void put(uint64_t &slot, T value) {
  slot = 0;
  std::memcpy(&slot, &value, sizeof value);
}

Status badKernels(const std::string &message) {
  return Status::error(SATTN_ERROR_INVALID_KERNELS, message);
}

int ioIndex(const std::string &name) {
  if (name == "q")
    return kIoQ;
  if (name == "k")
    return kIoK;
  if (name == "v")
    return kIoV;
  if (name == "out")
    return kIoOut;
  return -1;
}

} // namespace

const char *toString(StepKind kind) {
  switch (kind) {
  case StepKind::Dense:
    return "dense";
  case StepKind::Refresh:
    return "refresh";
  case StepKind::Reuse:
    return "reuse";
  }
  return "?";
}

bool runsOn(KernelWhen when, StepKind kind) {
  switch (kind) {
  case StepKind::Dense:
    return when == KernelWhen::Always;
  case StepKind::Refresh:
    return true;
  case StepKind::Reuse:
    return when != KernelWhen::Refresh;
  }
  return false;
}

StepKind effectiveStepKind(StepKind scheduled, bool haveMask) {
  return scheduled == StepKind::Reuse && !haveMask ? StepKind::Refresh
                                                   : scheduled;
}

int64_t contiguousStride(const std::vector<int64_t> &shape, int64_t dim) {
  int64_t stride = 1;
  for (size_t i = size_t(dim) + 1; i < shape.size(); ++i)
    stride *= shape[i];
  return stride;
}

Status checkPlannable(const VariantParams &variant) {
  if (variant.linear.enabled)
    return Status::error(SATTN_ERROR_INVALID_VARIANT,
                         "variant " + variant.name +
                             ": linear.enabled: the linear path has no GPU "
                             "kernels yet; a plan needs linear.enabled false");
  return Status::ok();
}

Status checkEveryStageHasKernels(const Manifest &manifest) {
  for (const ManifestStage &stage : manifest.stages)
    if (stage.kernels.empty())
      return Status::error(SATTN_ERROR_INVALID_VARIANT,
                           "variant " + manifest.name + ": stage " + stage.op +
                               " has no GPU kernel yet" +
                               (stage.note.empty() ? std::string()
                                                   : " (" + stage.note + ")"));
  return Status::ok();
}

Status LaunchProgram::build(const Manifest &manifest,
                            const std::map<std::string, uint64_t> &owned,
                            LaunchProgram &out, TensorMapEncoder encode) {
  const std::string &variant = manifest.name;
  std::map<std::string, const ManifestBuffer *> buffers;
  for (const ManifestBuffer &buffer : manifest.buffers) {
    buffers[buffer.name] = &buffer;
    bool io = buffer.kind == ManifestBuffer::Kind::Input ||
              buffer.kind == ManifestBuffer::Kind::Output;
    if (io && ioIndex(buffer.name) < 0)
      return badKernels(variant + ": buffer " + buffer.name + " is an " +
                        toString(buffer.kind) +
                        ", but a plan binds only q, k, v and out");
    if (!io && !owned.count(buffer.name))
      return badKernels(variant + ": " + toString(buffer.kind) + " buffer " +
                        buffer.name + " has no memory");
  }
  SATTN_RETURN_IF_ERROR(checkEveryStageHasKernels(manifest));
  LaunchProgram program;
  for (size_t s = 0; s < manifest.stages.size(); ++s) {
    const ManifestStage &stage = manifest.stages[s];
    for (const std::string &name : stage.kernels) {
      size_t k = 0;
      while (k < manifest.kernels.size() && manifest.kernels[k].name != name)
        ++k;
      if (k == manifest.kernels.size())
        return badKernels(variant + ": stage " + stage.op + " names kernel " +
                          name + ", which the manifest does not describe");
      const ManifestKernel &kernel = manifest.kernels[k];
      Launch launch;
      launch.kernel = k;
      launch.stage = s;
      launch.when = kernel.when;
      for (int i = 0; i < 3; ++i) {
        int64_t limit = i == 0 ? (int64_t(1) << 31) - 1 : 65535;
        if (kernel.grid[i] < 1 || kernel.grid[i] > limit)
          return badKernels(name + ": grid[" + std::to_string(i) + "] is " +
                            std::to_string(kernel.grid[i]) +
                            ", outside [1, " + std::to_string(limit) + "]");
        launch.grid[i] = unsigned(kernel.grid[i]);
      }
      launch.slots.assign(kernel.params.size(), 0);
      size_t index = program.launches_.size();
      for (size_t p = 0; p < kernel.params.size(); ++p) {
        const ManifestParam &param = kernel.params[p];
        std::string where = name + " parameter " + std::to_string(p) + " (" +
                            param.name + ")";
        uint64_t &slot = launch.slots[p];
        Patch patch;
        patch.launch = index;
        patch.slot = p;
        switch (param.role) {
        case ManifestParam::Role::Buffer:
        case ManifestParam::Role::Stride:
        case ManifestParam::Role::TensorMap: {
          auto it = buffers.find(param.buffer);
          if (it == buffers.end())
            return badKernels(where + ": unknown buffer \"" + param.buffer +
                              "\"");
          int io = ioIndex(param.buffer);
          bool isIo = it->second->kind == ManifestBuffer::Kind::Input ||
                      it->second->kind == ManifestBuffer::Kind::Output;
          if (param.role == ManifestParam::Role::TensorMap) {
            const std::vector<int64_t> &shape = it->second->shape;
            if (param.type != "tensormap" || shape.size() != 4)
              return badKernels(where + ": a tensor map of type " +
                                param.type + " over a buffer of " +
                                std::to_string(shape.size()) +
                                " dimensions (expected tensormap, [B,H,S,D])");
            if (!encode)
              return badKernels(where + ": a tensor map, and this program "
                                        "has no encoder for it");
            patch.what = Patch::What::TensorMap;
            patch.slot = launch.maps.size();
            launch.maps.emplace_back();
            patch.map = tensorMapRequest(
                param, manifest.variant.problem.dtype == DType::BF16, 0,
                {shape[0], shape[1], shape[2], shape[3]},
                {contiguousStride(shape, 0), contiguousStride(shape, 1),
                 contiguousStride(shape, 2)});
            if (isIo) {
              patch.io = io;
              program.patches_.push_back(patch);
            } else {
              patch.map.address = owned.at(param.buffer);
              SATTN_RETURN_IF_ERROR(encode(patch.map, launch.maps[patch.slot]));
            }
            break;
          }
          if (param.role == ManifestParam::Role::Buffer) {
            if (param.type != "ptr")
              return badKernels(where + ": a buffer parameter of type " +
                                param.type + " (expected ptr)");
            if (isIo) {
              patch.what = Patch::What::Address;
              patch.io = io;
              program.patches_.push_back(patch);
            } else {
              put(slot, owned.at(param.buffer));
            }
            break;
          }
          if (param.type != "i64" && param.type != "i32")
            return badKernels(where + ": a stride of type " + param.type +
                              " (expected i64 or i32)");
          const std::vector<int64_t> &shape = it->second->shape;
          if (param.dim < 0 || param.dim > 2 ||
              (!isIo && param.dim >= int64_t(shape.size())))
            return badKernels(where + ": stride of dimension " +
                              std::to_string(param.dim) + " of " +
                              param.buffer + ", which has " +
                              std::to_string(shape.size()) + " dimensions");
          bool wide = param.type == "i64";
          if (isIo) {
            patch.what = Patch::What::Stride;
            patch.io = io;
            patch.dim = int(param.dim);
            patch.wide = wide;
            program.patches_.push_back(patch);
          } else {
            int64_t stride = contiguousStride(shape, param.dim);
            if (wide)
              put(slot, stride);
            else
              put(slot, int32_t(stride));
          }
          break;
        }
        case ManifestParam::Role::Scalar: {
          if (param.source == "density") {
            if (param.type != "f32" && param.type != "f64")
              return badKernels(where + ": source density needs type f32 or "
                                        "f64, not " +
                                param.type);
            patch.what = Patch::What::Density;
            patch.wide = param.type == "f64";
            program.patches_.push_back(patch);
          } else if (param.source == "dense") {
            if (param.type != "i32" && param.type != "i64")
              return badKernels(where + ": source dense needs an integer "
                                        "type, not " +
                                param.type);
            patch.what = Patch::What::Dense;
            patch.wide = param.type == "i64";
            program.patches_.push_back(patch);
          } else if (!param.source.empty()) {
            return badKernels(where + ": unknown scalar source \"" +
                              param.source + "\"");
          } else if (!param.value) {
            return badKernels(where + ": a scalar with neither value nor "
                                      "source");
          } else if (param.type == "f32") {
            put(slot, float(*param.value));
          } else if (param.type == "i32") {
            put(slot, int32_t(*param.value));
          } else if (param.type == "i64") {
            put(slot, int64_t(*param.value));
          } else {
            return badKernels(where + ": scalar type " + param.type +
                              " (expected i32, i64 or f32)");
          }
          break;
        }
        }
      }
      program.launches_.push_back(std::move(launch));
    }
  }
  // The slot vectors never change size from here on: their addresses are
  // what cuLaunchKernel reads.
  for (Launch &launch : program.launches_) {
    const ManifestKernel &kernel = manifest.kernels[launch.kernel];
    launch.pointers.resize(launch.slots.size());
    size_t map = 0;
    for (size_t p = 0; p < launch.slots.size(); ++p)
      launch.pointers[p] =
          kernel.params[p].role == ManifestParam::Role::TensorMap
              ? static_cast<void *>(&launch.maps[map++])
              : static_cast<void *>(&launch.slots[p]);
  }
  program.encode_ = std::move(encode);
  out = std::move(program);
  return Status::ok();
}

Status LaunchProgram::bind(const IoBinding &io, double density, bool dense) {
  for (const Patch &patch : patches_) {
    if (patch.what == Patch::What::TensorMap) {
      TensorMapRequest request = patch.map;
      request.address = io[patch.io].address;
      request.strides = io[patch.io].strides;
      SATTN_RETURN_IF_ERROR(
          encode_(request, launches_[patch.launch].maps[patch.slot]));
      continue;
    }
    uint64_t &slot = launches_[patch.launch].slots[patch.slot];
    switch (patch.what) {
    case Patch::What::Address:
      put(slot, io[patch.io].address);
      break;
    case Patch::What::Stride: {
      int64_t stride = io[patch.io].strides[patch.dim];
      if (patch.wide)
        put(slot, stride);
      else
        put(slot, int32_t(stride));
      break;
    }
    case Patch::What::Density:
      if (patch.wide)
        put(slot, density);
      else
        put(slot, float(density));
      break;
    case Patch::What::Dense:
      if (patch.wide)
        put(slot, int64_t(dense));
      else
        put(slot, int32_t(dense));
      break;
    case Patch::What::TensorMap:
      break;
    }
  }
  return Status::ok();
}

} // namespace sattn
