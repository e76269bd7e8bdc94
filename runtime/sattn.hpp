//===- sattn.hpp - The sattn runtime, C++ API over the C API ----*- C++ -*-===//
//
// Header-only RAII wrappers of sattn.h: objects own their handles (move-only),
// and a failed call throws sattn::Error with the status and the message of
// sattn_last_error(). Same thread-safety as the C API: distinct objects may
// be used from distinct threads; one object shared between threads needs the
// caller's locking.
//
//   sattn::Context gpu(0);
//   sattn::Plan plan(gpu, variantJson);          // the whole pipeline
//   plan.run(q, k, v, out, step, stream);
//
//   sattn::Kernels kernels = sattn::Kernels::compile(gpu, variantJson);
//   kernels.sparseAttention(q, k, v, out, mask, /*lse=*/nullptr, stream);
//
// A Plan, unlike the other objects, may be shared between threads: its calls
// are serialized.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_SATTN_HPP
#define SATTN_RUNTIME_SATTN_HPP

#include "sattn.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sattn {

/// A failed sattn call: `status()` is its code, `what()` reads
/// "SATTN_ERROR_...: message".
class Error : public std::runtime_error {
public:
  explicit Error(sattn_status status)
      : std::runtime_error(std::string(sattn_status_name(status)) + ": " +
                           sattn_last_error()),
        status_(status) {}
  sattn_status status() const { return status_; }

private:
  sattn_status status_;
};

/// Throws sattn::Error unless `status` is SATTN_OK.
inline void check(sattn_status status) {
  if (status != SATTN_OK)
    throw Error(status);
}

/// What sattn_compile returns, owned.
struct CompiledVariant {
  std::string ptx;
  std::string manifestJson;
};

/// Compiles a variant (JSON text) in process; no GPU needed. `arch`: "sm_80",
/// "sm_90a", or "auto" (the variant's target.arch, "auto" there: sm_80).
inline CompiledVariant compile(const std::string &variantJson,
                               const std::string &arch = "auto") {
  char *ptx = nullptr, *manifest = nullptr;
  check(sattn_compile(variantJson.c_str(), arch.c_str(), &ptx, &manifest));
  std::unique_ptr<char, decltype(&sattn_free)> ownPtx(ptx, sattn_free);
  std::unique_ptr<char, decltype(&sattn_free)> ownManifest(manifest,
                                                           sattn_free);
  return {ptx, manifest};
}

namespace detail {
template <typename T, void (*Destroy)(T *)> struct Destroyer {
  void operator()(T *handle) const { Destroy(handle); }
};
/// A C handle owned by a move-only C++ object.
template <typename T, void (*Destroy)(T *)>
using Owned = std::unique_ptr<T, Destroyer<T, Destroy>>;
} // namespace detail

/// A GPU (its primary CUDA context).
class Context {
public:
  explicit Context(int device = 0) {
    sattn_context *handle = nullptr;
    check(sattn_context_create(device, &handle));
    h_.reset(handle);
  }
  sattn_context *get() const { return h_.get(); }

private:
  detail::Owned<sattn_context, sattn_context_destroy> h_;
};

/// A variant's kernels, loaded on a context's GPU. The context must outlive
/// them.
class Kernels {
public:
  /// From the kernel cache, or compiled in process and cached.
  static Kernels compile(const Context &context, const std::string &json) {
    sattn_kernels *handle = nullptr;
    check(sattn_kernels_compile(context.get(), json.c_str(), &handle));
    return Kernels(handle);
  }
  /// What sattnc wrote: NAME.manifest.json and its PTX.
  static Kernels load(const Context &context, const std::string &manifest) {
    sattn_kernels *handle = nullptr;
    check(sattn_kernels_load(context.get(), manifest.c_str(), &handle));
    return Kernels(handle);
  }
  sattn_kernels *get() const { return h_.get(); }

  sattn_kernels_info describe() const {
    sattn_kernels_info info;
    check(sattn_kernels_describe(get(), &info));
    return info;
  }

  /// Asynchronous on `stream` (a CUstream; nullptr: the legacy default).
  void sparseAttention(const sattn_tensor &q, const sattn_tensor &k,
                       const sattn_tensor &v, const sattn_tensor &out,
                       const sattn_block_mask &mask, float *lse = nullptr,
                       void *stream = nullptr) const {
    check(sattn_sparse_attention(get(), &q, &k, &v, &out, &mask, lse, stream));
  }

private:
  explicit Kernels(sattn_kernels *handle) : h_(handle) {}
  detail::Owned<sattn_kernels, sattn_kernels_destroy> h_;
};

/// A variant's whole pipeline on a context's GPU (sattn_plan_create): kernels
/// from the cache or compiled, workspace allocated once. The context must
/// outlive it.
class Plan {
public:
  Plan(const Context &context, const std::string &variantJson) {
    sattn_plan *handle = nullptr;
    check(sattn_plan_create(context.get(), variantJson.c_str(), &handle));
    h_.reset(handle);
  }
  sattn_plan *get() const { return h_.get(); }

  /// Step `step` of the schedule, asynchronous on `stream` (a CUstream;
  /// nullptr: the legacy default).
  void run(const sattn_tensor &q, const sattn_tensor &k, const sattn_tensor &v,
           const sattn_tensor &out, int64_t step,
           void *stream = nullptr) const {
    check(sattn_run(get(), &q, &k, &v, &out, step, stream));
  }

  /// What the plan has done, copied out of the plan (waits for its last
  /// step).
  struct Stats {
    int64_t stepsRun = 0, lastStep = -1, lastRefreshStep = -1;
    sattn_step_kind lastKind = SATTN_STEP_NONE;
    int64_t batch = 0, heads = 0;
    std::vector<float> headDensity, headRecall; // empty before a refresh
    /// (stage op, ms) of the last step; empty unless profiling was on.
    std::vector<std::pair<std::string, float>> stageMs;
  };
  Stats stats() const {
    sattn_plan_statistics raw;
    check(sattn_plan_stats(get(), &raw));
    Stats s;
    s.stepsRun = raw.steps_run;
    s.lastStep = raw.last_step;
    s.lastRefreshStep = raw.last_refresh_step;
    s.lastKind = raw.last_kind;
    s.batch = raw.batch;
    s.heads = raw.heads;
    size_t n = size_t(raw.batch * raw.heads);
    if (raw.head_density)
      s.headDensity.assign(raw.head_density, raw.head_density + n);
    if (raw.head_recall)
      s.headRecall.assign(raw.head_recall, raw.head_recall + n);
    if (raw.stage_ms)
      for (int64_t i = 0; i < raw.stages; ++i)
        s.stageMs.emplace_back(raw.stage_names[i], raw.stage_ms[i]);
    return s;
  }

  void setProfiling(bool on) const {
    check(sattn_plan_set_profiling(get(), on ? 1 : 0));
  }

  sattn_kernels_info describe() const {
    sattn_kernels_info info;
    check(sattn_plan_describe(get(), &info));
    return info;
  }

private:
  detail::Owned<sattn_plan, sattn_plan_destroy> h_;
};

} // namespace sattn

#endif // SATTN_RUNTIME_SATTN_HPP
