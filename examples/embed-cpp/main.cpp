//===- main.cpp - Embedding the sattn runtime in a C++ engine -------------===//
//
// What an engine does to use sattn through the C++ API (sattn.hpp) and its
// own CUDA memory:
//
//   1. compile its variant in process (no GPU needed for that);
//   2. the whole pipeline: a sattn::Plan for the variant (kernels from the
//      JIT, cached under $SATTN_CACHE_DIR, default ~/.cache/sattn; workspace
//      allocated once), then plan.run(q, k, v, out, step, stream) for a few
//      denoising steps (dense warm-up, refresh, reuse), each output checked
//      against the float64 reference of the whole variant
//      (sattn::ref::VariantRunner; only when built inside the sattn tree,
//      which has the reference) and the plan's stats printed;
//   3. the lower-level call: block-sparse attention with a mask the engine
//      chose (sattn::Kernels::sparseAttention), timed with CUDA events and
//      16 rows checked against float64.
//
// Without a GPU it stops after step 1 and says why. A plan needs a kernel
// for every stage of the variant; until all of them exist, step 2 prints
// the runtime's reason and the example goes on with step 3.
//
//===----------------------------------------------------------------------===//

#include <sattn/sattn.hpp>

#include <cuda_runtime.h>

#ifdef SATTN_EMBED_REFERENCE
#include "compiler/reference/Pipeline.h"
#include "dialect/VariantJson.h"
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace {

// The engine's attention: 8 heads of 64 over a 4x16x16 latent (1024 tokens),
// query blocks of 64 and key groups of 64, no tail bins.
constexpr int kHeads = 8, kHeadDim = 64, kTokens = 4 * 16 * 16;
constexpr int kBlockQ = 64, kGroup = 64;
constexpr int kQueryBlocks = kTokens / kBlockQ, kGroups = kTokens / kGroup;
const char *kVariant = R"({
  "name": "embed-example",
  "problem": {"batch": 1, "heads": 8, "head_dim": 64, "grid": [4, 16, 16]},
  "block": {"q": 64, "k": 64},
  "selection": {"rule": "topk", "density": 0.25},
  "tail": {"bins": 0}
})";

uint16_t toBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  bits += 0x7fff + ((bits >> 16) & 1); // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

float fromBf16(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float x;
  std::memcpy(&x, &bits, 4);
  return x;
}

#define CUDA_CHECK(call)                                                       \
  do {                                                                         \
    cudaError_t err_ = (call);                                                 \
    if (err_ != cudaSuccess) {                                                 \
      std::fprintf(stderr, "embed-cpp: %s: %s\n", #call,                       \
                   cudaGetErrorString(err_));                                  \
      return 1;                                                                \
    }                                                                          \
  } while (0)

/// The mask: each query block keeps its own key group, its neighbours and
/// every fourth group (about a quarter of the keys).
void buildMask(std::vector<int32_t> &groups, std::vector<int32_t> &counts) {
  groups.assign(size_t(kHeads) * kQueryBlocks * kGroups, -1);
  counts.assign(size_t(kHeads) * kQueryBlocks, 0);
  for (int h = 0; h < kHeads; ++h)
    for (int b = 0; b < kQueryBlocks; ++b) {
      int row = h * kQueryBlocks + b, n = 0;
      for (int g = 0; g < kGroups; ++g)
        if (std::abs(g - b) <= 1 || (g + h) % 4 == 0)
          groups[size_t(row) * kGroups + n++] = g;
      counts[row] = n;
    }
}

/// Attention of query `t` of head `h` over the kept groups, in double.
std::vector<double> referenceRow(const std::vector<uint16_t> &q,
                                 const std::vector<uint16_t> &k,
                                 const std::vector<uint16_t> &v,
                                 const std::vector<int32_t> &groups,
                                 const std::vector<int32_t> &counts, int h,
                                 int t) {
  auto at = [&](const std::vector<uint16_t> &x, int token, int d) {
    return double(fromBf16(x[(size_t(h) * kTokens + token) * kHeadDim + d]));
  };
  int row = h * kQueryBlocks + t / kBlockQ;
  std::vector<double> logits;
  std::vector<int> keys;
  for (int i = 0; i < counts[row]; ++i)
    for (int j = 0; j < kGroup; ++j) {
      int key = groups[size_t(row) * kGroups + i] * kGroup + j;
      double dot = 0;
      for (int d = 0; d < kHeadDim; ++d)
        dot += at(q, t, d) * at(k, key, d);
      logits.push_back(dot / std::sqrt(double(kHeadDim)));
      keys.push_back(key);
    }
  double peak = *std::max_element(logits.begin(), logits.end()), sum = 0;
  std::vector<double> out(kHeadDim, 0.0);
  for (size_t i = 0; i < keys.size(); ++i) {
    double w = std::exp(logits[i] - peak);
    sum += w;
    for (int d = 0; d < kHeadDim; ++d)
      out[d] += w * at(v, keys[i], d);
  }
  for (double &x : out)
    x /= sum;
  return out;
}

/// The variant of the plan: dense at step 0, a refresh every two steps
/// after (1, 3), reuses in between (2).
const char *kPlanVariant = R"({
  "name": "embed-plan",
  "problem": {"batch": 1, "heads": 8, "head_dim": 64, "grid": [4, 16, 16]},
  "reorder": {"kind": "hilbert2d"},
  "block": {"q": 64, "k": 64},
  "selection": {"rule": "topk", "density": 0.3},
  "schedule": {"dense_warmup_steps": 1, "refresh_every": 2},
  "tail": {"bins": 2}
})";

const char *kindName(sattn_step_kind kind) {
  switch (kind) {
  case SATTN_STEP_DENSE:
    return "dense";
  case SATTN_STEP_REFRESH:
    return "refresh";
  case SATTN_STEP_REUSE:
    return "reuse";
  default:
    return "none";
  }
}

sattn_tensor tensorOf(void *data);

/// Step 2: the plan over steps 0..3 on the engine's buffers. Returns false
/// when an output is off the reference; true otherwise (also when the
/// plan cannot be made yet, which it reports).
bool runPlan(const sattn::Context &gpu, const std::vector<uint16_t> &q,
             const std::vector<uint16_t> &k, const std::vector<uint16_t> &v,
             void *dq, void *dk, void *dv, void *dout, cudaStream_t stream) {
  std::unique_ptr<sattn::Plan> plan;
  try {
    plan = std::make_unique<sattn::Plan>(gpu, kPlanVariant);
  } catch (const sattn::Error &e) {
    std::printf("plan: not available yet (%s)\n", e.what());
    return true;
  }
  plan->setProfiling(true);
  size_t elements = q.size();
  (void)elements; // used by the reference check, when built in the tree
  sattn_tensor tq = tensorOf(dq), tk = tensorOf(dk), tv = tensorOf(dv),
               tout = tensorOf(dout);
#ifdef SATTN_EMBED_REFERENCE
  sattn::ref::VariantRunner runner(
      *sattn::parseVariantJson(kPlanVariant).variant);
  sattn::ref::Tensor rq({1, kHeads, kTokens, kHeadDim}), rk = rq, rv = rq;
  for (size_t i = 0; i < elements; ++i) {
    rq.data[i] = fromBf16(q[i]);
    rk.data[i] = fromBf16(k[i]);
    rv.data[i] = fromBf16(v[i]);
  }
#endif
  bool good = true;
  for (int64_t step = 0; step < 4; ++step) {
    plan->run(tq, tk, tv, tout, step, stream);
    sattn::Plan::Stats stats = plan->stats(); // waits for the step
    double ms = 0;
    for (const auto &stage : stats.stageMs)
      ms += stage.second > 0 ? stage.second : 0;
    double density = 0;
    for (float d : stats.headDensity)
      density += d / double(stats.headDensity.size());
    std::printf("plan step %lld: %-7s %.3f ms (kernels), kept density %.3f",
                (long long)step, kindName(stats.lastKind), ms,
                stats.headDensity.empty() ? 1.0 : density);
#ifdef SATTN_EMBED_REFERENCE
    std::vector<uint16_t> out(elements);
    cudaMemcpy(out.data(), dout, elements * 2, cudaMemcpyDeviceToHost);
    sattn::ref::VariantOutput want = runner.step(rq, rk, rv, step);
    double num = 0, den = 0;
    for (size_t i = 0; i < elements; ++i) {
      double e = fromBf16(out[i]) - want.output.data[i];
      num += e * e;
      den += want.output.data[i] * want.output.data[i];
    }
    double rel = std::sqrt(num / den);
    good &= rel <= 1e-2;
    std::printf(", relative L2 vs float64 %.2e", rel);
#endif
    std::printf("\n");
  }
  return good;
}

sattn_tensor tensorOf(void *data) {
  sattn_tensor t{};
  t.data = data;
  int64_t shape[4] = {1, kHeads, kTokens, kHeadDim};
  int64_t strides[4] = {int64_t(kHeads) * kTokens * kHeadDim,
                        int64_t(kTokens) * kHeadDim, kHeadDim, 1};
  std::memcpy(t.shape, shape, sizeof shape);
  std::memcpy(t.strides, strides, sizeof strides);
  t.dtype = SATTN_BF16;
  return t;
}

} // namespace

int main() {
  // Any machine: the compiler is inside libsattn.so.
  sattn::CompiledVariant compiled = sattn::compile(kVariant, "sm_80");
  std::printf("compiled %s in process: %zu bytes of PTX\n", "embed-example",
              compiled.ptx.size());

  std::unique_ptr<sattn::Context> gpu;
  try {
    gpu = std::make_unique<sattn::Context>(0);
  } catch (const sattn::Error &e) {
    std::printf("no GPU to run on (%s); stopping after the compile\n",
                e.what());
    return 0;
  }
  sattn::Kernels kernels = sattn::Kernels::compile(*gpu, kVariant);
  sattn_kernels_info info = kernels.describe();
  std::printf("kernels for %s: %s in %.1f ms (module load %.1f ms), %d "
              "registers, %d B spilled, %d B shared%s%s\n",
              info.arch, info.from_cache ? "from the cache" : "compiled",
              info.prepare_ms, info.load_ms, info.registers, info.local_bytes,
              info.shared_bytes, *info.cache_note ? "; " : "",
              info.cache_note);
  std::printf("tile parameters: %s\n", info.tuning);

  // The engine's tensors: random bf16 q, k, v in [B, H, S, D].
  size_t elements = size_t(kHeads) * kTokens * kHeadDim;
  std::vector<uint16_t> q(elements), k(elements), v(elements);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (auto *x : {&q, &k, &v})
    for (uint16_t &e : *x)
      e = toBf16(normal(rng));
  std::vector<int32_t> groups, counts;
  buildMask(groups, counts);

  void *dq, *dk, *dv, *dout, *dgroups, *dcounts;
  size_t bytes = elements * sizeof(uint16_t);
  for (void **p : {&dq, &dk, &dv, &dout})
    CUDA_CHECK(cudaMalloc(p, bytes));
  CUDA_CHECK(cudaMalloc(&dgroups, groups.size() * sizeof(int32_t)));
  CUDA_CHECK(cudaMalloc(&dcounts, counts.size() * sizeof(int32_t)));
  CUDA_CHECK(cudaMemcpy(dq, q.data(), bytes, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(dk, k.data(), bytes, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(dv, v.data(), bytes, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(dgroups, groups.data(),
                        groups.size() * sizeof(int32_t),
                        cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(dcounts, counts.data(),
                        counts.size() * sizeof(int32_t),
                        cudaMemcpyHostToDevice));

  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  bool planGood = runPlan(*gpu, q, k, v, dq, dk, dv, dout, stream);

  sattn_block_mask mask{};
  mask.groups = static_cast<const int32_t *>(dgroups);
  mask.counts = static_cast<const int32_t *>(dcounts);
  mask.capacity = kGroups;
  cudaEvent_t start, stop;
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  sattn_tensor tq = tensorOf(dq), tk = tensorOf(dk), tv = tensorOf(dv),
               tout = tensorOf(dout);
  const int warmup = 5, runs = 50;
  for (int i = 0; i < warmup; ++i)
    kernels.sparseAttention(tq, tk, tv, tout, mask, nullptr, stream);
  CUDA_CHECK(cudaEventRecord(start, stream));
  for (int i = 0; i < runs; ++i)
    kernels.sparseAttention(tq, tk, tv, tout, mask, nullptr, stream);
  CUDA_CHECK(cudaEventRecord(stop, stream));
  CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));

  std::vector<uint16_t> out(elements);
  CUDA_CHECK(cudaMemcpy(out.data(), dout, bytes, cudaMemcpyDeviceToHost));
  double worst = 0;
  for (int sample = 0; sample < 16; ++sample) {
    int h = sample % kHeads, t = (sample * 389) % kTokens;
    std::vector<double> want = referenceRow(q, k, v, groups, counts, h, t);
    for (int d = 0; d < kHeadDim; ++d) {
      double got = fromBf16(out[(size_t(h) * kTokens + t) * kHeadDim + d]);
      worst = std::max(worst, std::abs(got - want[d]));
    }
  }
  std::printf("sparse attention: %.3f ms per call (mean of %d); 16 rows "
              "checked against float64: max |error| %.2e\n",
              ms / runs, runs, worst);
  for (void *p : {dq, dk, dv, dout, dgroups, dcounts})
    cudaFree(p);
  cudaStreamDestroy(stream);
  return worst < 2e-2 && planGood ? 0 : 1;
}
