//===- SparseAttention.cpp - Checking and launching the attention kernel ===//

#include "runtime/SparseAttention.h"

#include "runtime/TensorChecks.h"
#include "runtime/TensorMap.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace sattn {
namespace {

/// The module's attention kernel, with its context made current.
Status attentionKernel(const KernelModule &module,
                       const KernelModule::Kernel *&kernel) {
  kernel = module.find("sparse_attention");
  if (!kernel)
    return Status::error(SATTN_ERROR_INVALID_KERNELS,
                         module.manifest().name +
                             ": the manifest has no sparse_attention kernel");
  return module.context().makeCurrent();
}

} // namespace

Status runSparseAttention(const KernelModule &module, const sattn_tensor &q,
                          const sattn_tensor &k, const sattn_tensor &v,
                          const sattn_tensor &out, const sattn_block_mask &mask,
                          float *lse, cu::Stream stream) {
  const KernelModule::Kernel *kernel = nullptr;
  SATTN_RETURN_IF_ERROR(attentionKernel(module, kernel));
  const VariantParams &variant = module.manifest().variant;
  const Context &context = module.context();
  sattn_dtype dtype =
      variant.problem.dtype == DType::BF16 ? SATTN_BF16 : SATTN_FP16;
  int64_t headDim = variant.problem.headDim;
  SATTN_RETURN_IF_ERROR(checkTensor(context, "q", q, q.shape, "q.shape", dtype, headDim));
  SATTN_RETURN_IF_ERROR(checkTensor(context, "k", k, q.shape, "q.shape", dtype, headDim));
  SATTN_RETURN_IF_ERROR(checkTensor(context, "v", v, q.shape, "q.shape", dtype, headDim));
  SATTN_RETURN_IF_ERROR(
      checkTensor(context, "out", out, q.shape, "q.shape", dtype,
                  headDim));
  int64_t batch = q.shape[0], heads = q.shape[1], seq = q.shape[2];
  if (batch > 65535 || heads > 65535 || seq > (int64_t(1) << 30))
    return Status::invalid("q.shape " + shapeText(q.shape) +
                           " is too large (batch and heads at most 65535)");
  int64_t numGroups = (seq + variant.block.k - 1) / variant.block.k;
  if (mask.capacity < 1 || mask.capacity > numGroups)
    return Status::invalid("mask.capacity is " + std::to_string(mask.capacity) +
                           "; it must be in [1, " + std::to_string(numGroups) +
                           "], the number of key groups");
  // Rows of the mask: one per (batch, head, query block).
  uint64_t rows = uint64_t(batch * heads) *
                  uint64_t((seq + variant.block.q - 1) / variant.block.q);
  SATTN_RETURN_IF_ERROR(checkDevicePointer(context, "mask.groups", mask.groups,
                                           rows * mask.capacity * 4));
  SATTN_RETURN_IF_ERROR(
      checkDevicePointer(context, "mask.counts", mask.counts, rows * 4));
  bool bins = variant.tail.bins > 0;
  uint64_t binBytes = rows * uint64_t(variant.tail.bins) * 4;
  uint64_t tailBytes[] = {binBytes * uint64_t(headDim),
                          binBytes * uint64_t(headDim), binBytes};
  const void *tails[] = {mask.tail_keys, mask.tail_values,
                         mask.tail_log_counts};
  const char *tailNames[] = {"mask.tail_keys", "mask.tail_values",
                             "mask.tail_log_counts"};
  for (int i = 0; i < 3; ++i) {
    if (!bins && tails[i])
      return Status::invalid(std::string(tailNames[i]) +
                             " is given, but the kernels have no tail bins");
    if (bins)
      SATTN_RETURN_IF_ERROR(
          checkDevicePointer(context, tailNames[i], tails[i], tailBytes[i]));
  }
  // Kernels of the fused reorder read q, k, v and write out through the
  // token order; the others take them reordered.
  bool tokenOrder = false;
  for (const ManifestParam &param : kernel->info->params)
    tokenOrder |= param.name == "token_order";
  if (tokenOrder)
    SATTN_RETURN_IF_ERROR(checkDevicePointer(
        context, "mask.token_order (these kernels read q, k and v through "
                 "the token order)",
        mask.token_order, uint64_t(seq) * 4));
  else if (mask.token_order)
    return Status::invalid(
        "mask.token_order is given, but the kernels take q, k and v "
        "reordered (compiled with --fuse-reorder=false or an identity "
        "order)");
  bool wantsLse = false;
  for (const ManifestParam &param : kernel->info->params)
    wantsLse |= param.name == "lse";
  if (wantsLse)
    SATTN_RETURN_IF_ERROR(checkDevicePointer(
        context, "lse", lse, uint64_t(batch * heads * seq) * 4));
  else if (lse)
    return Status::invalid("lse is given, but the kernels do not write it");

  return launchSparseAttention(module, q, k, v, out, mask, lse, stream);
}

Status launchSparseAttention(const KernelModule &module, const sattn_tensor &q,
                             const sattn_tensor &k, const sattn_tensor &v,
                             const sattn_tensor &out,
                             const sattn_block_mask &mask, float *lse,
                             cu::Stream stream) {
  const KernelModule::Kernel *kernel = nullptr;
  SATTN_RETURN_IF_ERROR(attentionKernel(module, kernel));
  const VariantParams &variant = module.manifest().variant;
  int64_t batch = q.shape[0], heads = q.shape[1], seq = q.shape[2];
  // One 8-byte slot per parameter, in PTX order.
  std::map<std::string, const sattn_tensor *> tensors = {
      {"q", &q}, {"k", &k}, {"v", &v}, {"out", &out}};
  std::map<std::string, const void *> buffers = {
      {"q", q.data},
      {"k", k.data},
      {"v", v.data},
      {"out", out.data},
      {"groups", mask.groups},
      {"counts", mask.counts},
      {"tail_keys", mask.tail_keys},
      {"tail_values", mask.tail_values},
      {"tail_log_counts", mask.tail_log_counts},
      {"token_order", mask.token_order},
      {"lse", lse}};
  const std::vector<ManifestParam> &params = kernel->info->params;
  std::vector<uint64_t> slots(params.size());
  std::vector<void *> pointers(params.size());
  // Tensor maps take 128 bytes each, by value (reserved: their addresses
  // are the launch's parameter pointers).
  std::vector<cu::TensorMap> maps;
  maps.reserve(size_t(std::count_if(
      params.begin(), params.end(), [](const ManifestParam &param) {
        return param.role == ManifestParam::Role::TensorMap;
      })));
  TensorMapEncoder encode = driverTensorMapEncoder(module.context().cuda());
  for (size_t i = 0; i < params.size(); ++i) {
    const ManifestParam &param = params[i];
    void *slot = &slots[i];
    pointers[i] = slot;
    switch (param.role) {
    case ManifestParam::Role::TensorMap: {
      auto it = tensors.find(param.name);
      if (it == tensors.end())
        return Status::error(SATTN_ERROR_INVALID_KERNELS,
                             "unknown tensor map parameter " + param.name);
      const sattn_tensor &t = *it->second;
      SATTN_RETURN_IF_ERROR(encode(
          tensorMapRequest(param, variant.problem.dtype == DType::BF16,
                           uintptr_t(t.data),
                           {t.shape[0], t.shape[1], t.shape[2], t.shape[3]},
                           {t.strides[0], t.strides[1], t.strides[2]}),
          maps.emplace_back()));
      pointers[i] = &maps.back();
      break;
    }
    case ManifestParam::Role::Buffer: {
      auto it = buffers.find(param.name);
      if (it == buffers.end())
        return Status::error(SATTN_ERROR_INVALID_KERNELS,
                             "unknown buffer parameter " + param.name);
      slots[i] = uintptr_t(it->second);
      break;
    }
    case ManifestParam::Role::Stride: {
      auto it = tensors.find(param.name);
      if (it == tensors.end() || param.dim < 0 || param.dim > 2)
        return Status::error(SATTN_ERROR_INVALID_KERNELS,
                             "unknown stride parameter " + param.name);
      int64_t stride = it->second->strides[param.dim];
      std::memcpy(slot, &stride, sizeof stride);
      break;
    }
    case ManifestParam::Role::Scalar: {
      if (param.name == "seq_len" || param.name == "capacity" ||
          param.name == "heads" || param.name == "batch") {
        int64_t value = param.name == "seq_len"    ? seq
                        : param.name == "capacity" ? mask.capacity
                        : param.name == "heads"    ? heads
                                                   : batch;
        int32_t narrow = int32_t(value);
        std::memcpy(slot, &narrow, sizeof narrow);
      } else if (param.name == "scale" && param.value) {
        float value = float(*param.value);
        std::memcpy(slot, &value, sizeof value);
      } else if (param.name == "dense") {
        int32_t value = 0; // the caller's index lists
        std::memcpy(slot, &value, sizeof value);
      } else {
        return Status::error(SATTN_ERROR_INVALID_KERNELS,
                             "unknown scalar parameter " + param.name);
      }
      break;
    }
    }
  }
  unsigned queryBlocks =
      unsigned((seq + variant.block.q - 1) / variant.block.q);
  return module.launch(*kernel, {queryBlocks, unsigned(heads), unsigned(batch)},
                       pointers.data(), stream);
}

} // namespace sattn
