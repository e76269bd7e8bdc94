//===- AttentionWorkload.cpp - Inputs and timing of the attention kernel --===//

#include "tools/sattn-bench/AttentionWorkload.h"

#include "compiler/reference/Reorder.h"
#include "runtime/HalfFloat.h"
#include "runtime/SparseAttention.h"

#include <algorithm>
#include <random>

namespace sattn {
namespace {

/// `count` values in [-2, 2) in the kernels' 16-bit dtype: a pool of a
/// million random values read from a random offset with a random odd stride,
/// so that every input set differs without drawing hundreds of millions of
/// numbers.
std::vector<uint16_t> randomHalves(size_t count, DType dtype,
                                   std::mt19937_64 &rng) {
  constexpr size_t kPool = 1 << 20;
  std::vector<uint16_t> pool(kPool);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  for (uint16_t &x : pool)
    x = dtype == DType::BF16 ? toBf16(uniform(rng)) : toFp16(uniform(rng));
  size_t offset = rng() % kPool, stride = 2 * (rng() % 1000) + 1;
  std::vector<uint16_t> out(count);
  for (size_t i = 0; i < count; ++i)
    out[i] = pool[(offset + i * stride) % kPool];
  return out;
}

template <typename T>
Status uploaded(const Context &context, const std::vector<T> &host,
                DeviceBuffer &buffer) {
  SATTN_RETURN_IF_ERROR(
      DeviceBuffer::allocate(context, host.size() * sizeof(T), buffer));
  return buffer.upload(host);
}

} // namespace

WorkloadShape shapeOf(const VariantParams &variant, double density) {
  WorkloadShape s;
  s.batch = variant.problem.batch;
  s.heads = variant.problem.heads;
  s.seqLen = variant.problem.seqLen();
  s.density = density;
  return s;
}

Status AttentionWorkload::create(const KernelModule &module,
                                 const VariantParams &variant,
                                 const WorkloadShape &shape,
                                 std::unique_ptr<AttentionWorkload> &out) {
  const KernelModule::Kernel *kernel = module.find("sparse_attention");
  if (!kernel)
    return Status::error(SATTN_ERROR_INVALID_KERNELS,
                         "the kernels have no sparse_attention kernel");
  std::unique_ptr<AttentionWorkload> w(new AttentionWorkload());
  const Context &context = module.context();
  const ProblemParams &problem = variant.problem;
  w->module_ = &module;
  w->shape_ = shape;
  w->headDim_ = problem.headDim;
  w->dtype_ = problem.dtype == DType::BF16 ? SATTN_BF16 : SATTN_FP16;

  MaskSpec spec;
  spec.batch = shape.batch;
  spec.heads = shape.heads;
  spec.seqLen = shape.seqLen;
  spec.blockQ = variant.block.q;
  spec.groupSize = variant.block.k;
  spec.density = shape.density;
  spec.headSpread = shape.headSpread;
  spec.textTokens = std::min(problem.textTokens, shape.seqLen);
  spec.textFirst = problem.textPosition == TextPosition::First;
  spec.bins = variant.tail.bins;
  spec.headDim = problem.headDim;
  spec.seed = shape.seed;
  w->mask_ = makeRandomMask(spec);

  size_t elements =
      size_t(shape.batch * shape.heads * shape.seqLen * problem.headDim);
  std::mt19937_64 rng(shape.seed);
  w->q_.resize(size_t(shape.inputs));
  w->k_.resize(size_t(shape.inputs));
  w->v_.resize(size_t(shape.inputs));
  for (int i = 0; i < shape.inputs; ++i) {
    DeviceBuffer *buffers[3] = {&w->q_[i], &w->k_[i], &w->v_[i]};
    for (int which = 0; which < 3; ++which) {
      std::vector<uint16_t> host = randomHalves(elements, problem.dtype, rng);
      SATTN_RETURN_IF_ERROR(uploaded(context, host, *buffers[which]));
      if (i == 0 && shape.keepHostInputs)
        w->host_[which] = std::move(host);
    }
  }
  SATTN_RETURN_IF_ERROR(DeviceBuffer::allocate(context, elements * 2, w->out_));
  const RandomMask &m = w->mask_;
  SATTN_RETURN_IF_ERROR(uploaded(context, m.groups, w->groups_));
  SATTN_RETURN_IF_ERROR(uploaded(context, m.counts, w->counts_));
  w->blockMask_.groups = static_cast<const int32_t *>(w->groups_.data());
  w->blockMask_.counts = static_cast<const int32_t *>(w->counts_.data());
  w->blockMask_.capacity = m.capacity;
  if (spec.bins > 0) {
    SATTN_RETURN_IF_ERROR(uploaded(context, m.tailKeys, w->tailKeys_));
    SATTN_RETURN_IF_ERROR(uploaded(context, m.tailValues, w->tailValues_));
    SATTN_RETURN_IF_ERROR(
        uploaded(context, m.tailLogCounts, w->tailLogCounts_));
    w->blockMask_.tail_keys = static_cast<const float *>(w->tailKeys_.data());
    w->blockMask_.tail_values =
        static_cast<const float *>(w->tailValues_.data());
    w->blockMask_.tail_log_counts =
        static_cast<const float *>(w->tailLogCounts_.data());
  }
  // Kernels of the fused reorder read the tensors through the token order:
  // the variant's own order at its sequence length, else a fixed random
  // permutation.
  bool tokenOrder = false;
  for (const ManifestParam &param : kernel->info->params)
    tokenOrder |= param.name == "token_order";
  if (tokenOrder) {
    std::vector<int32_t> order;
    if (shape.seqLen == problem.seqLen()) {
      for (int64_t row : ref::tokenOrder(problem, variant.reorder))
        order.push_back(int32_t(row));
    } else {
      order.resize(size_t(shape.seqLen));
      for (size_t i = 0; i < order.size(); ++i)
        order[i] = int32_t(i);
      std::mt19937_64 permute(shape.seed + 2);
      std::shuffle(order.begin(), order.end(), permute);
    }
    SATTN_RETURN_IF_ERROR(uploaded(context, order, w->tokenOrder_));
    w->blockMask_.token_order =
        static_cast<const int32_t *>(w->tokenOrder_.data());
  }
  for (const ManifestParam &param : kernel->info->params)
    w->wantsLse_ |= param.name == "lse";
  if (w->wantsLse_)
    SATTN_RETURN_IF_ERROR(DeviceBuffer::allocate(
        context, size_t(shape.batch * shape.heads * shape.seqLen) * 4,
        w->lse_));
  out = std::move(w);
  return Status::ok();
}

Status AttentionWorkload::call(int call, cu::Stream stream,
                               bool unmappedOutput) const {
  int64_t b = shape_.batch, h = shape_.heads, s = shape_.seqLen, d = headDim_;
  auto tensor = [&](const void *data) {
    return sattn_tensor{const_cast<void *>(data),
                        {b, h, s, d},
                        {h * s * d, s * d, d, 1},
                        dtype_};
  };
  size_t i = size_t(call % shape_.inputs);
  sattn_tensor q = tensor(q_[i].data()), k = tensor(k_[i].data()),
               v = tensor(v_[i].data()), o = tensor(out_.data());
  float *lse = wantsLse_ ? static_cast<float *>(lse_.data()) : nullptr;
  if (!unmappedOutput)
    return runSparseAttention(*module_, q, k, v, o, blockMask_, lse, stream);
  // Nothing is mapped at 256 bytes past address zero.
  o.data = reinterpret_cast<void *>(uintptr_t(256));
  return launchSparseAttention(*module_, q, k, v, o, blockMask_, lse, stream);
}

Status AttentionWorkload::downloadOutput(std::vector<uint16_t> &out) const {
  const CudaDriver &cuda = module_->context().cuda();
  SATTN_RETURN_IF_ERROR(
      checkCuda(cuda, "cuCtxSynchronize", cuda.ctxSynchronize()));
  out.resize(size_t(shape_.batch * shape_.heads * shape_.seqLen * headDim_));
  return out_.download(out);
}

Status timeWorkload(const AttentionWorkload &workload, int warmup, int runs,
                    Timing &out) {
  const CudaDriver &cuda = workload.module().context().cuda();
  cu::Stream stream = nullptr;
  SATTN_RETURN_IF_ERROR(
      checkCuda(cuda, "cuStreamCreate", cuda.streamCreate(&stream, 1)));
  std::vector<cu::Event> starts(size_t(runs), nullptr),
      ends(size_t(runs), nullptr);
  auto body = [&]() -> Status {
    for (int i = 0; i < warmup; ++i)
      SATTN_RETURN_IF_ERROR(workload.run(i, stream));
    for (int i = 0; i < runs; ++i) {
      SATTN_RETURN_IF_ERROR(
          checkCuda(cuda, "cuEventCreate", cuda.eventCreate(&starts[i], 0)));
      SATTN_RETURN_IF_ERROR(
          checkCuda(cuda, "cuEventCreate", cuda.eventCreate(&ends[i], 0)));
    }
    for (int i = 0; i < runs; ++i) {
      SATTN_RETURN_IF_ERROR(checkCuda(cuda, "cuEventRecord",
                                      cuda.eventRecord(starts[i], stream)));
      SATTN_RETURN_IF_ERROR(workload.run(warmup + i, stream));
      SATTN_RETURN_IF_ERROR(
          checkCuda(cuda, "cuEventRecord", cuda.eventRecord(ends[i], stream)));
    }
    SATTN_RETURN_IF_ERROR(
        checkCuda(cuda, "cuStreamSynchronize", cuda.streamSynchronize(stream)));
    out.ms.assign(size_t(runs), 0.0);
    for (int i = 0; i < runs; ++i) {
      float elapsed = 0;
      SATTN_RETURN_IF_ERROR(
          checkCuda(cuda, "cuEventElapsedTime",
                    cuda.eventElapsedTime(&elapsed, starts[i], ends[i])));
      out.ms[size_t(i)] = elapsed;
    }
    std::sort(out.ms.begin(), out.ms.end());
    return Status::ok();
  };
  Status status = body();
  for (size_t i = 0; i < starts.size(); ++i) {
    if (starts[i])
      cuda.eventDestroy(starts[i]);
    if (ends[i])
      cuda.eventDestroy(ends[i]);
  }
  cuda.streamDestroy(stream);
  return status;
}

} // namespace sattn
