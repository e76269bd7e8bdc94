//===- main.cpp - Embedding the sattn runtime in a C++ engine -------------===//
//
// What an engine does to use sattn's kernels through the C++ API (sattn.hpp)
// and its own CUDA memory:
//
//   1. compile its variant in process (sattn::Kernels::compile: JIT, cached
//      under $SATTN_CACHE_DIR, default ~/.cache/sattn);
//   2. run block-sparse attention on its own q/k/v buffers and mask, on its
//      own stream, and time it with CUDA events;
//   3. check a few output rows against a float64 computation on the host.
//
// Without a GPU it still compiles the variant (sattn::compile) and says why
// it stops there. The mask here is a fixed local-plus-strided pattern chosen
// by the engine; sattn's own selection stages will produce it in a plan.
//
//===----------------------------------------------------------------------===//

#include <sattn/sattn.hpp>

#include <cuda_runtime.h>

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
  std::printf("kernels for %s: %s in %.1f ms, %d registers, %d B spilled, "
              "%d B shared%s%s\n",
              info.arch, info.from_cache ? "from the cache" : "compiled",
              info.prepare_ms, info.registers, info.local_bytes,
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

  sattn_block_mask mask{};
  mask.groups = static_cast<const int32_t *>(dgroups);
  mask.counts = static_cast<const int32_t *>(dcounts);
  mask.capacity = kGroups;
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
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
  return worst < 2e-2 ? 0 : 1;
}
