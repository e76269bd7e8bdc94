//===- Plan.cpp - A variant's whole pipeline, step by step ----------------===//

#include "runtime/Plan.h"

#include "compiler/reference/Reorder.h"
#include "compiler/reference/Schedule.h"
#include "runtime/TensorChecks.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

namespace sattn {
namespace {

/// The token order of (grid, text tokens and position, reorder), computed
/// once per process: a Hilbert order of a wan2.1-480p latent (32760 tokens)
/// costs a few milliseconds, as much as the rest of a cached plan's
/// creation, and an engine plans every layer with the same variant.
std::shared_ptr<const std::vector<int64_t>>
sharedTokenOrder(const ProblemParams &problem, const ReorderParams &reorder) {
  using Key = std::tuple<std::vector<int64_t>, int64_t, int, int,
                         std::vector<int64_t>>;
  static std::mutex mutex;
  static std::map<Key, std::shared_ptr<const std::vector<int64_t>>> orders;
  Key key{problem.grid, problem.textTokens, int(problem.textPosition),
          int(reorder.kind), reorder.tile};
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = orders.find(key); it != orders.end())
      return it->second;
  }
  auto order = std::make_shared<const std::vector<int64_t>>(
      ref::tokenOrder(problem, reorder));
  std::lock_guard<std::mutex> lock(mutex);
  return orders.emplace(key, std::move(order)).first->second;
}

// Sub-buffers of the arena start 256-byte aligned: what cuMemAlloc itself
// guarantees, and more than any kernel's vector loads need.
constexpr uint64_t kAlignment = 256;
constexpr unsigned kEventDisableTiming = 0x2; // CU_EVENT_DISABLE_TIMING

uint64_t alignUp(uint64_t bytes) {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

StepKind scheduledKind(const ref::StepPlan &plan) {
  switch (plan.kind) {
  case ref::StepPlan::Kind::Dense:
    return StepKind::Dense;
  case ref::StepPlan::Kind::Refresh:
    return StepKind::Refresh;
  case ref::StepPlan::Kind::Reuse:
    return StepKind::Reuse;
  }
  return StepKind::Dense;
}

sattn_step_kind toC(StepKind kind) {
  switch (kind) {
  case StepKind::Dense:
    return SATTN_STEP_DENSE;
  case StepKind::Refresh:
    return SATTN_STEP_REFRESH;
  case StepKind::Reuse:
    return SATTN_STEP_REUSE;
  }
  return SATTN_STEP_NONE;
}

const ManifestBuffer *findBuffer(const Manifest &manifest,
                                 const std::string &name) {
  for (const ManifestBuffer &buffer : manifest.buffers)
    if (buffer.name == name)
      return &buffer;
  return nullptr;
}

} // namespace

Status Plan::create(std::unique_ptr<KernelModule> module,
                    std::unique_ptr<Plan> &out) {
  const Manifest &manifest = module->manifest();
  const VariantParams &variant = manifest.variant;
  SATTN_RETURN_IF_ERROR(checkPlannable(variant));
  // Before the arena is allocated: a refused variant costs no GPU memory.
  SATTN_RETURN_IF_ERROR(checkEveryStageHasKernels(manifest));
  const Context &context = module->context();
  std::unique_ptr<Plan> plan(new Plan(std::move(module)));
  const ProblemParams &problem = variant.problem;
  int64_t shape[4] = {problem.batch, problem.heads, problem.seqLen(),
                      problem.headDim};
  std::copy(shape, shape + 4, plan->shape_);

  // One arena for every buffer the plan owns.
  std::map<std::string, uint64_t> offsets;
  uint64_t total = 0;
  for (const ManifestBuffer &buffer : manifest.buffers)
    if (buffer.kind == ManifestBuffer::Kind::Workspace ||
        buffer.kind == ManifestBuffer::Kind::Constant) {
      if (buffer.bytes() < 0)
        return Status::error(SATTN_ERROR_INVALID_KERNELS,
                             "buffer " + buffer.name + " has a negative size");
      offsets[buffer.name] = total;
      total += alignUp(uint64_t(buffer.bytes()));
    }
  SATTN_RETURN_IF_ERROR(DeviceBuffer::allocate(context, total, plan->arena_));
  SATTN_RETURN_IF_ERROR(plan->arena_.fill(0));
  for (const auto &[name, offset] : offsets)
    plan->addresses_[name] = uintptr_t(plan->arena_.data()) + offset;
  SATTN_RETURN_IF_ERROR(
      LaunchProgram::build(manifest, plan->addresses_, plan->program_,
                           driverTensorMapEncoder(context.cuda())));
  SATTN_RETURN_IF_ERROR(plan->fillConstants());

  // stats() reads the last selection level: outputs groups [B, H, NQ, G],
  // counts [B, H, NQ] and the estimated recall [B, H, NQ] (sattn.select).
  for (const ManifestStage &stage : manifest.stages) {
    if (stage.op != "sattn.select" || stage.outputs.size() < 2)
      continue;
    const ManifestBuffer *groups = findBuffer(manifest, stage.outputs[0]);
    const ManifestBuffer *counts = findBuffer(manifest, stage.outputs[1]);
    if (!groups || !counts || groups->shape.size() != 4 ||
        counts->shape.size() != 3 || counts->dtype != "i32")
      return Status::error(SATTN_ERROR_INVALID_KERNELS,
                           "stage sattn.select: outputs are not groups "
                           "[B, H, NQ, G] and counts [B, H, NQ] (i32)");
    plan->countsBuffer_ = counts->name;
    plan->queryBlocks_ = counts->shape[2];
    plan->groups_ = groups->shape[3];
    plan->recallBuffer_.clear();
    if (stage.outputs.size() >= 3) {
      const ManifestBuffer *recall = findBuffer(manifest, stage.outputs[2]);
      if (recall && recall->dtype == "f32" && recall->shape == counts->shape)
        plan->recallBuffer_ = recall->name;
    }
  }
  size_t rows = size_t(shape[0] * shape[1] * plan->queryBlocks_);
  plan->countsHost_.resize(rows);
  plan->recallHost_.resize(rows);
  plan->headDensity_.resize(size_t(shape[0] * shape[1]));
  plan->headRecall_.resize(size_t(shape[0] * shape[1]));
  for (const ManifestStage &stage : manifest.stages)
    plan->stageNames_.push_back(stage.op.c_str());
  plan->stageMs_.assign(manifest.stages.size(), -1.0f);
  plan->stageRan_.assign(manifest.stages.size(), 0);

  const CudaDriver &cuda = context.cuda();
  SATTN_RETURN_IF_ERROR(
      checkCuda(cuda, "cuEventCreate",
                cuda.eventCreate(&plan->done_, kEventDisableTiming)));
  out = std::move(plan);
  return Status::ok();
}

Status Plan::fillConstants() {
  const Manifest &manifest = module_->manifest();
  const VariantParams &variant = manifest.variant;
  std::shared_ptr<const std::vector<int64_t>> order;
  for (const ManifestBuffer &buffer : manifest.buffers) {
    if (buffer.kind != ManifestBuffer::Kind::Constant)
      continue;
    int64_t seq = variant.problem.seqLen();
    if (buffer.dtype != "i32" || buffer.bytes() != seq * 4)
      return Status::error(SATTN_ERROR_INVALID_KERNELS,
                           "constant " + buffer.name + " (" + buffer.fill +
                               ") must be i32 with S = " + std::to_string(seq) +
                               " elements");
    if (!order)
      order = sharedTokenOrder(variant.problem, variant.reorder);
    std::vector<int32_t> table;
    if (buffer.fill == "token_order") {
      table.assign(order->begin(), order->end());
    } else if (buffer.fill == "frames") {
      table = ref::framesOf(variant.problem, *order);
    } else {
      return Status::error(SATTN_ERROR_INVALID_KERNELS,
                           "constant " + buffer.name + ": unknown fill \"" +
                               buffer.fill + "\"");
    }
    const CudaDriver &cuda = module_->context().cuda();
    SATTN_RETURN_IF_ERROR(checkCuda(
        cuda, "cuMemcpyHtoD",
        cuda.memcpyHtoD(addresses_.at(buffer.name), table.data(),
                        table.size() * sizeof(int32_t))));
  }
  return Status::ok();
}

Plan::~Plan() {
  const CudaDriver &cuda = module_->context().cuda();
  if (module_->context().makeCurrent().isOk()) {
    if (done_) {
      // The arena is freed below: let the last step finish with it.
      if (pending_)
        cuda.eventSynchronize(done_);
      cuda.eventDestroy(done_);
    }
    for (cu::Event event : stageEvents_)
      cuda.eventDestroy(event);
  }
}

Status Plan::setProfiling(bool on) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (on && stageEvents_.empty()) {
    const CudaDriver &cuda = module_->context().cuda();
    SATTN_RETURN_IF_ERROR(module_->context().makeCurrent());
    std::vector<cu::Event> events(2 * module_->manifest().stages.size());
    for (size_t i = 0; i < events.size(); ++i) {
      Status created = checkCuda(cuda, "cuEventCreate",
                                 cuda.eventCreate(&events[i], 0));
      if (!created.isOk()) {
        for (size_t j = 0; j < i; ++j)
          cuda.eventDestroy(events[j]);
        return created;
      }
    }
    stageEvents_ = std::move(events);
  }
  profiling_ = on;
  return Status::ok();
}

Status Plan::run(const sattn_tensor &q, const sattn_tensor &k,
                 const sattn_tensor &v, const sattn_tensor &out, int64_t step,
                 cu::Stream stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (step < 0)
    return Status::invalid("step is " + std::to_string(step) +
                           "; steps count from 0");
  const Context &context = module_->context();
  const VariantParams &variant = module_->manifest().variant;
  SATTN_RETURN_IF_ERROR(context.makeCurrent());
  sattn_dtype dtype =
      variant.problem.dtype == DType::BF16 ? SATTN_BF16 : SATTN_FP16;
  const char *origin = "the plan's shape";
  int64_t headDim = shape_[3];
  SATTN_RETURN_IF_ERROR(
      checkTensor(context, "q", q, shape_, origin, dtype, headDim));
  SATTN_RETURN_IF_ERROR(
      checkTensor(context, "k", k, shape_, origin, dtype, headDim));
  SATTN_RETURN_IF_ERROR(
      checkTensor(context, "v", v, shape_, origin, dtype, headDim));
  SATTN_RETURN_IF_ERROR(
      checkTensor(context, "out", out, shape_, origin, dtype, headDim));

  ref::StepPlan scheduled = ref::planStep(variant, step);
  StepKind kind = effectiveStepKind(scheduledKind(scheduled), haveMask_);
  bool dense = kind == StepKind::Dense;
  IoBinding io;
  const sattn_tensor *tensors[] = {&q, &k, &v, &out};
  for (int i = 0; i < 4; ++i) {
    io[i].address = uintptr_t(tensors[i]->data);
    for (int d = 0; d < 3; ++d)
      io[i].strides[d] = tensors[i]->strides[d];
  }
  SATTN_RETURN_IF_ERROR(
      program_.bind(io, dense ? 1.0 : scheduled.density, dense));
  Status launched = launchStep(kind, stream);
  if (!launched.isOk()) {
    // A refresh cut short leaves no mask worth reusing.
    if (kind == StepKind::Refresh)
      haveMask_ = false;
    return launched;
  }
  if (kind == StepKind::Refresh) {
    haveMask_ = true;
    lastRefresh_ = step;
  }
  ++stepsRun_;
  lastStep_ = step;
  lastKind_ = toC(kind);
  return Status::ok();
}

Status Plan::launchStep(StepKind kind, cu::Stream stream) {
  const CudaDriver &cuda = module_->context().cuda();
  const std::vector<Launch> &launches = program_.launches();
  const std::vector<KernelModule::Kernel> &kernels = module_->kernels();
  bool profile = profiling_ && !stageEvents_.empty();
  std::fill(stageRan_.begin(), stageRan_.end(), 0);
  for (size_t i = 0; i < launches.size(); ++i) {
    const Launch &launch = launches[i];
    if (!runsOn(launch.when, kind))
      continue;
    size_t stage = launch.stage;
    if (profile && !stageRan_[stage])
      SATTN_RETURN_IF_ERROR(
          checkCuda(cuda, "cuEventRecord",
                    cuda.eventRecord(stageEvents_[2 * stage], stream)));
    stageRan_[stage] = 1;
    SATTN_RETURN_IF_ERROR(module_->launch(
        kernels[launch.kernel], launch.grid,
        const_cast<void **>(launch.pointers.data()), stream));
    // The stage ends with its last kernel that runs at this step.
    bool last = true;
    for (size_t j = i + 1; j < launches.size() && launches[j].stage == stage;
         ++j)
      last &= !runsOn(launches[j].when, kind);
    if (profile && last)
      SATTN_RETURN_IF_ERROR(
          checkCuda(cuda, "cuEventRecord",
                    cuda.eventRecord(stageEvents_[2 * stage + 1], stream)));
  }
  profiledLast_ = profile;
  SATTN_RETURN_IF_ERROR(
      checkCuda(cuda, "cuEventRecord", cuda.eventRecord(done_, stream)));
  pending_ = true;
  return Status::ok();
}

Status Plan::stats(sattn_plan_statistics &out) {
  std::lock_guard<std::mutex> lock(mutex_);
  const Context &context = module_->context();
  const CudaDriver &cuda = context.cuda();
  SATTN_RETURN_IF_ERROR(context.makeCurrent());
  if (pending_)
    SATTN_RETURN_IF_ERROR(checkCuda(cuda, "cuEventSynchronize",
                                    cuda.eventSynchronize(done_)));
  out = sattn_plan_statistics();
  out.steps_run = stepsRun_;
  out.last_step = lastStep_;
  out.last_kind = lastKind_;
  out.last_refresh_step = haveMask_ ? lastRefresh_ : -1;
  out.batch = shape_[0];
  out.heads = shape_[1];
  out.stages = int64_t(stageNames_.size());
  out.stage_names = stageNames_.data();

  if (haveMask_ && !countsBuffer_.empty() && queryBlocks_ > 0 &&
      groups_ > 0) {
    SATTN_RETURN_IF_ERROR(checkCuda(
        cuda, "cuMemcpyDtoH",
        cuda.memcpyDtoH(countsHost_.data(), addresses_.at(countsBuffer_),
                        countsHost_.size() * sizeof(int32_t))));
    if (!recallBuffer_.empty())
      SATTN_RETURN_IF_ERROR(checkCuda(
          cuda, "cuMemcpyDtoH",
          cuda.memcpyDtoH(recallHost_.data(), addresses_.at(recallBuffer_),
                          recallHost_.size() * sizeof(float))));
    for (size_t head = 0; head < headDensity_.size(); ++head) {
      double kept = 0, recall = 0;
      for (int64_t i = 0; i < queryBlocks_; ++i) {
        size_t row = head * size_t(queryBlocks_) + size_t(i);
        kept += double(countsHost_[row]) / double(groups_);
        recall += recallHost_[row];
      }
      headDensity_[head] = float(kept / double(queryBlocks_));
      headRecall_[head] = float(recall / double(queryBlocks_));
    }
    out.head_density = headDensity_.data();
    out.head_recall = recallBuffer_.empty() ? nullptr : headRecall_.data();
  }

  if (profiledLast_) {
    for (size_t s = 0; s < stageMs_.size(); ++s) {
      stageMs_[s] = -1.0f;
      if (!stageRan_[s])
        continue;
      SATTN_RETURN_IF_ERROR(checkCuda(
          cuda, "cuEventElapsedTime",
          cuda.eventElapsedTime(&stageMs_[s], stageEvents_[2 * s],
                                stageEvents_[2 * s + 1])));
    }
    out.stage_ms = stageMs_.data();
  }
  return Status::ok();
}

Status Plan::buffer(const std::string &name, void *&address, int64_t &bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = addresses_.find(name);
  if (it == addresses_.end())
    return Status::invalid("sattn_plan_buffer: the plan owns no buffer named \"" +
                           name + "\" (q, k, v and out are the caller's)");
  for (const ManifestBuffer &b : module_->manifest().buffers)
    if (b.name == name)
      bytes = b.bytes();
  address = reinterpret_cast<void *>(uintptr_t(it->second));
  return Status::ok();
}

} // namespace sattn
