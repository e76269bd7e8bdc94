//===- Plan.h - A variant's whole pipeline, step by step --------*- C++ -*-===//
//
// The object behind sattn_plan: a loaded kernel module, one device arena
// holding every workspace and constant buffer of the manifest, and the
// launch program (LaunchProgram.h). run() checks the caller's tensors, asks
// the schedule (compiler/reference/Schedule.h) what kind of step this is,
// patches the per-call argument slots and launches; it neither allocates
// nor synchronizes. Calls on one plan are serialized by its mutex.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_PLAN_H
#define SATTN_RUNTIME_PLAN_H

#include "runtime/DeviceBuffer.h"
#include "runtime/KernelModule.h"
#include "runtime/LaunchProgram.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sattn {

class Plan {
public:
  /// Takes the module's manifest apart into a launch program and allocates
  /// (zero-filled) and fills the arena; refuses a variant with a stage that
  /// has no kernel, or with the linear path.
  static Status create(std::unique_ptr<KernelModule> module,
                       std::unique_ptr<Plan> &out);
  ~Plan();
  Plan(const Plan &) = delete;
  Plan &operator=(const Plan &) = delete;

  Status run(const sattn_tensor &q, const sattn_tensor &k,
             const sattn_tensor &v, const sattn_tensor &out, int64_t step,
             cu::Stream stream);
  /// Waits for the last run, then fills `out` (arrays owned by the plan).
  Status stats(sattn_plan_statistics &out);
  Status setProfiling(bool on);
  /// A workspace or constant buffer of the manifest, by name.
  Status buffer(const std::string &name, void *&address, int64_t &bytes);

  const KernelModule &module() const { return *module_; }

private:
  explicit Plan(std::unique_ptr<KernelModule> module)
      : module_(std::move(module)) {}
  Status fillConstants();
  Status launchStep(StepKind kind, cu::Stream stream);

  std::mutex mutex_;
  std::unique_ptr<KernelModule> module_;
  DeviceBuffer arena_;
  std::map<std::string, uint64_t> addresses_; // workspace and constants
  LaunchProgram program_;
  int64_t shape_[4] = {0, 0, 0, 0};

  // The schedule's state on this plan.
  bool haveMask_ = false;
  int64_t stepsRun_ = 0, lastStep_ = -1, lastRefresh_ = -1;
  sattn_step_kind lastKind_ = SATTN_STEP_NONE;

  // Recorded after each run's last kernel: what stats() waits for (not the
  // stream, which the caller may have destroyed since).
  cu::Event done_ = nullptr;
  bool pending_ = false;
  // Profiling: a start and an end event per stage; which stages the last
  // step recorded.
  bool profiling_ = false, profiledLast_ = false;
  std::vector<cu::Event> stageEvents_;
  std::vector<char> stageRan_;

  // stats(): the last selection level's buffers and the host copies.
  std::string countsBuffer_, recallBuffer_;
  int64_t queryBlocks_ = 0, groups_ = 0;
  std::vector<int32_t> countsHost_;
  std::vector<float> recallHost_, headDensity_, headRecall_, stageMs_;
  std::vector<const char *> stageNames_;
};

} // namespace sattn

#endif // SATTN_RUNTIME_PLAN_H
