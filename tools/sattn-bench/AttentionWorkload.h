//===- AttentionWorkload.h - Inputs and timing of attention -----*- C++ -*-===//
//
// What sattn-bench and sattn-tune time: a variant's sparse attention kernel
// on random bf16/fp16 inputs (several sets, rotated, so consecutive calls do
// not find their operands in L2) under a random block mask of a chosen
// density (RandomMask), with CUDA events around each call; the median is
// what gets reported. Runtime only: no LLVM/MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_TOOLS_SATTNBENCH_ATTENTIONWORKLOAD_H
#define SATTN_TOOLS_SATTNBENCH_ATTENTIONWORKLOAD_H

#include "dialect/VariantParams.h"
#include "runtime/DeviceBuffer.h"
#include "runtime/KernelModule.h"
#include "tools/sattn-bench/RandomMask.h"

#include <memory>
#include <vector>

namespace sattn {

struct WorkloadShape {
  int64_t batch = 1, heads = 1, seqLen = 0;
  double density = 0.1;
  double headSpread = 0; // MaskSpec::headSpread
  uint64_t seed = 1;
  int inputs = 3; // input sets rotated between calls
  /// Keep the host copy of input set 0 (for checks against the reference).
  bool keepHostInputs = false;
};

/// The variant's own problem size at `density`.
WorkloadShape shapeOf(const VariantParams &variant, double density);

class AttentionWorkload {
public:
  /// Allocates and fills the inputs, mask and output on the module's GPU.
  static Status create(const KernelModule &module, const VariantParams &variant,
                       const WorkloadShape &shape,
                       std::unique_ptr<AttentionWorkload> &out);

  /// One call of the kernel on input set `call % inputs`, asynchronous.
  Status run(int call, cu::Stream stream) const {
    return this->call(call, stream, /*unmappedOutput=*/false);
  }
  /// The same call with the output at an unmapped address and the runtime's
  /// checks bypassed: the kernel faults (sattn-tune's test knob).
  Status runWithUnmappedOutput(cu::Stream stream) const {
    return call(0, stream, /*unmappedOutput=*/true);
  }

  const RandomMask &mask() const { return mask_; }
  const WorkloadShape &shape() const { return shape_; }
  const KernelModule &module() const { return *module_; }
  /// Input set 0 as uploaded ([B, H, S, D], 16-bit encoding), when kept.
  const std::vector<uint16_t> &hostInput(int which) const {
    return host_[which];
  }
  /// Fills the output with 0xff bytes (NaN in bf16 and fp16), so that an
  /// element a call does not write shows up.
  Status poisonOutput() const { return out_.fill(0xff); }
  /// The output of the last call ([B, H, S, D], 16-bit encoding); waits.
  Status downloadOutput(std::vector<uint16_t> &out) const;
  /// 4 * head_dim * kept query-key pairs: the work of one call.
  double flops() const { return 4.0 * double(headDim_) * mask_.keptPairs; }

private:
  AttentionWorkload() = default;
  Status call(int call, cu::Stream stream, bool unmappedOutput) const;
  const KernelModule *module_ = nullptr;
  WorkloadShape shape_;
  int64_t headDim_ = 0;
  sattn_dtype dtype_ = SATTN_BF16;
  RandomMask mask_;
  std::vector<DeviceBuffer> q_, k_, v_;
  std::vector<uint16_t> host_[3];
  DeviceBuffer out_, groups_, counts_, tailKeys_, tailValues_, tailLogCounts_,
      lse_, tokenOrder_;
  sattn_block_mask blockMask_{};
  bool wantsLse_ = false;
};

struct Timing {
  std::vector<double> ms; // per call, sorted
  double median() const { return ms[ms.size() / 2]; }
};

/// Times `runs` calls of `workload` after `warmup` untimed ones, each
/// between its own pair of CUDA events on one stream.
Status timeWorkload(const AttentionWorkload &workload, int warmup, int runs,
                    Timing &out);

} // namespace sattn

#endif // SATTN_TOOLS_SATTNBENCH_ATTENTIONWORKLOAD_H
