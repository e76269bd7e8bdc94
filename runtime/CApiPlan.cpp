//===- CApiPlan.cpp - The C API of plans: running, stats, profiling -------===//
//
// sattn_plan_create needs the compiler and lives in CApiJit.cpp; what runs a
// plan once it exists needs only the driver.
//
//===----------------------------------------------------------------------===//

#include "runtime/sattn.h"

#include "runtime/CApiObjects.h"

using sattn::guarded;
using sattn::Status;

extern "C" {

void sattn_plan_destroy(sattn_plan *plan) { delete plan; }

sattn_status sattn_run(sattn_plan *plan, const sattn_tensor *q,
                       const sattn_tensor *k, const sattn_tensor *v,
                       const sattn_tensor *out, int64_t step, void *stream) {
  return guarded([&] {
    if (!plan || !q || !k || !v || !out)
      return Status::invalid(
          "sattn_run: plan, q, k, v and out must not be null");
    return plan->impl->run(*q, *k, *v, *out, step,
                           static_cast<sattn::cu::Stream>(stream));
  });
}

sattn_status sattn_plan_stats(sattn_plan *plan, sattn_plan_statistics *out) {
  return guarded([&] {
    if (!plan || !out)
      return Status::invalid(
          "sattn_plan_stats: plan and out must not be null");
    return plan->impl->stats(*out);
  });
}

sattn_status sattn_plan_describe(const sattn_plan *plan,
                                 sattn_kernels_info *out) {
  return guarded([&] {
    if (!plan || !out)
      return Status::invalid(
          "sattn_plan_describe: plan and out must not be null");
    *out = sattn::describeKernels(*plan->kernels, plan->impl->module());
    out->setup_ms = plan->setupMs;
    return Status::ok();
  });
}

sattn_status sattn_plan_set_profiling(sattn_plan *plan, int on) {
  return guarded([&] {
    if (!plan)
      return Status::invalid("sattn_plan_set_profiling: plan is null");
    return plan->impl->setProfiling(on != 0);
  });
}

sattn_status sattn_plan_buffer(sattn_plan *plan, const char *name,
                               void **device_pointer, int64_t *bytes) {
  return guarded([&] {
    if (!plan || !name || !device_pointer || !bytes)
      return Status::invalid("sattn_plan_buffer: plan, name, device_pointer "
                             "and bytes must not be null");
    return plan->impl->buffer(name, *device_pointer, *bytes);
  });
}

} // extern "C"
