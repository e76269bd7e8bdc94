//===- LaunchProgram.h - A manifest turned into launches --------*- C++ -*-===//
//
// What sattn_run launches, worked out once at plan creation from the
// manifest alone (no per-stage or per-variant host code): the kernels in
// stage order, each with one 8-byte argument slot per PTX parameter. Slots
// that never change (workspace and constant buffers, their strides, scalar
// values) are filled by build(); those that change per call (the caller's
// q, k, v, out and their strides, the step's density and dense flag) are
// patched by bind(), which neither allocates nor talks to the GPU. Plain
// C++: tested on machines without a GPU (test/unit/LaunchProgramTest.cpp).
//
// Which kernels a step launches (SPEC §4 schedule):
//   Dense   `always` kernels, dense = 1, density = 1;
//   Refresh every kernel (the mask is recomputed);
//   Reuse   `always` and `sparse` kernels (the mask of the last refresh).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_LAUNCHPROGRAM_H
#define SATTN_RUNTIME_LAUNCHPROGRAM_H

#include "compiler/Manifest.h"
#include "runtime/Status.h"
#include "runtime/TensorMap.h"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sattn {

enum class StepKind { Dense, Refresh, Reuse };

const char *toString(StepKind kind);

/// Whether a kernel that runs `when` is launched on a step of `kind`.
bool runsOn(KernelWhen when, StepKind kind);

/// How a step runs: as the schedule says, except that a reuse on a plan that
/// has not computed a mask yet (the first call at step 30) runs as a
/// refresh.
StepKind effectiveStepKind(StepKind scheduled, bool haveMask);

/// The stride of dimension `dim` of a contiguous buffer of `shape`: the
/// product of the dimensions after it (1 for the last).
int64_t contiguousStride(const std::vector<int64_t> &shape, int64_t dim);

/// Why a variant cannot be planned today (SATTN_ERROR_INVALID_VARIANT):
/// the linear path has no GPU kernels yet.
Status checkPlannable(const VariantParams &variant);

/// SATTN_ERROR_INVALID_VARIANT naming the first stage of `manifest` that has
/// no kernel, with the compiler's reason (the stage's note) when it gave
/// one.
Status checkEveryStageHasKernels(const Manifest &manifest);

/// Where a buffer lives for a launch: device address and the strides of
/// dimensions 0 (batch), 1 (head) and 2 (token), in elements.
struct BoundBuffer {
  uint64_t address = 0;
  std::array<int64_t, 3> strides{0, 0, 0};
};

/// The caller's tensors of one call, in this order.
enum IoTensor { kIoQ = 0, kIoK = 1, kIoV = 2, kIoOut = 3 };
using IoBinding = std::array<BoundBuffer, 4>;

struct Launch {
  size_t kernel = 0; // index into Manifest::kernels
  size_t stage = 0;  // index into Manifest::stages
  KernelWhen when = KernelWhen::Always;
  std::array<unsigned, 3> grid{1, 1, 1};
  /// One slot per parameter in PTX order, the value in its low bytes
  /// (what cuLaunchKernel reads through `pointers`); a tensor-map
  /// parameter's value is in `maps` instead.
  std::vector<uint64_t> slots;
  std::vector<cu::TensorMap> maps;
  std::vector<void *> pointers;
};

class LaunchProgram {
public:
  LaunchProgram() = default;
  LaunchProgram(const LaunchProgram &) = delete;
  LaunchProgram &operator=(const LaunchProgram &) = delete;
  LaunchProgram(LaunchProgram &&) = default;
  LaunchProgram &operator=(LaunchProgram &&) = default;

  /// Walks `manifest`: every stage must have kernels ("stage sattn.pool has
  /// no GPU kernel yet", SATTN_ERROR_INVALID_VARIANT), every kernel a stage
  /// names must exist, every parameter must bind to a known buffer, stride
  /// or scalar (else SATTN_ERROR_INVALID_KERNELS naming it). `owned` holds
  /// the address of every workspace and constant buffer; their strides are
  /// contiguous over the manifest's shape. Inputs must be q, k, v and the
  /// output out. Tensor maps (manifest role "tensor_map") are encoded by
  /// `encode`: those of workspace buffers here, those of the caller's
  /// tensors by bind(); without an encoder a manifest that has them is
  /// refused.
  static Status build(const Manifest &manifest,
                      const std::map<std::string, uint64_t> &owned,
                      LaunchProgram &out,
                      TensorMapEncoder encode = TensorMapEncoder());

  /// Sets the per-call slots of every launch: the caller's tensors (and
  /// their tensor maps), the step's density (f32 or f64 slots; topk counts
  /// need the f64) and dense flag (1 on a dense step). Fails only when a
  /// tensor map cannot be encoded for the caller's tensor.
  Status bind(const IoBinding &io, double density, bool dense);

  const std::vector<Launch> &launches() const { return launches_; }

private:
  struct Patch {
    enum class What { Address, Stride, Density, Dense, TensorMap };
    size_t launch = 0, slot = 0; // TensorMap: slot indexes Launch::maps
    What what = What::Address;
    int io = 0;        // Address, Stride, TensorMap: the IoTensor
    /// TensorMap: the request, less the caller's address and strides.
    TensorMapRequest map;
    int dim = 0;       // Stride
    bool wide = false; // an i64 slot (else i32) for Stride and Dense, an
                       // f64 slot (else f32) for Density
  };
  std::vector<Launch> launches_;
  std::vector<Patch> patches_;
  TensorMapEncoder encode_;
};

} // namespace sattn

#endif // SATTN_RUNTIME_LAUNCHPROGRAM_H
