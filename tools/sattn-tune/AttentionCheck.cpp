//===- AttentionCheck.cpp - A candidate kernel against float64 ------------===//

#include "tools/sattn-tune/AttentionCheck.h"

#include "compiler/reference/Attention.h"
#include "runtime/HalfFloat.h"
#include "tools/sattn-bench/AttentionWorkload.h"

#include <cmath>

namespace sattn {

Status checkAttention(const KernelModule &module, const VariantParams &variant,
                      int64_t seqLen, double density, uint64_t seed,
                      CheckResult &out) {
  WorkloadShape shape;
  shape.batch = 1;
  shape.heads = 2;
  shape.seqLen = seqLen;
  shape.density = density;
  shape.seed = seed;
  shape.inputs = 1;
  shape.keepHostInputs = true;
  std::unique_ptr<AttentionWorkload> workload;
  SATTN_RETURN_IF_ERROR(
      AttentionWorkload::create(module, variant, shape, workload));
  SATTN_RETURN_IF_ERROR(workload->poisonOutput());
  SATTN_RETURN_IF_ERROR(workload->run(0, nullptr));
  std::vector<uint16_t> got;
  SATTN_RETURN_IF_ERROR(workload->downloadOutput(got));

  const ProblemParams &problem = variant.problem;
  int64_t h = shape.heads, s = seqLen, d = problem.headDim;
  bool bf16 = problem.dtype == DType::BF16;
  auto decode = [&](uint16_t bits) {
    return double(bf16 ? fromBf16(bits) : fromFp16(bits));
  };
  ref::Tensor inputs[3];
  for (int which = 0; which < 3; ++which) {
    inputs[which] = ref::Tensor({1, h, s, d});
    const std::vector<uint16_t> &host = workload->hostInput(which);
    for (size_t i = 0; i < host.size(); ++i)
      inputs[which].data[i] = decode(host[i]);
  }

  const RandomMask &mask = workload->mask();
  ref::BlockLists lists;
  lists.batch = 1;
  lists.heads = h;
  lists.numQueryBlocks = mask.numQueryBlocks;
  lists.numGroups = mask.numGroups;
  lists.blockQ = variant.block.q;
  lists.groupSize = variant.block.k;
  lists.seqLen = s;
  for (int64_t row = 0; row < h * mask.numQueryBlocks; ++row) {
    auto first = mask.groups.begin() + row * mask.capacity;
    lists.rows.emplace_back(first, first + mask.counts[size_t(row)]);
  }
  ref::TailBins tail;
  int64_t bins = variant.tail.bins;
  if (bins > 0) {
    tail.bins = bins;
    tail.keys = ref::Tensor({1, h, mask.numQueryBlocks, bins, d});
    tail.values = ref::Tensor({1, h, mask.numQueryBlocks, bins, d});
    tail.logCounts = ref::Tensor({1, h, mask.numQueryBlocks, bins});
    tail.keys.data.assign(mask.tailKeys.begin(), mask.tailKeys.end());
    tail.values.data.assign(mask.tailValues.begin(), mask.tailValues.end());
    tail.logCounts.data.assign(mask.tailLogCounts.begin(),
                               mask.tailLogCounts.end());
  }
  ref::Tensor expected =
      ref::sparseAttention(inputs[0], inputs[1], inputs[2], lists,
                           bins > 0 ? &tail : nullptr, problem.softmaxScale());

  double err = 0, norm = 0;
  out = CheckResult();
  for (size_t i = 0; i < got.size(); ++i) {
    double g = decode(got[i]), want = expected.data[i];
    if (!std::isfinite(g)) {
      ++out.notFinite;
      continue;
    }
    err += (g - want) * (g - want);
    norm += want * want;
  }
  out.relL2 = std::sqrt(err / std::max(norm, 1e-300));
  return Status::ok();
}

} // namespace sattn
