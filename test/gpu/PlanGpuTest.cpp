//===- PlanGpuTest.cpp - Plans on a GPU against the float64 reference -----===//
//
// PlanGpu.*: a small variant's whole pipeline (sattn_plan_create, sattn_run)
// across steps 0..8 of its schedule (dense warm-up, refreshes, reuses) in
// the [B, H, S, D] and [B, S, H, D] layouts, each step's bf16 output
// against sattn::ref::VariantRunner (relative L2 <= 1e-2 per head); the
// stats (step kinds, last refresh, per-head kept density and recall against
// the reference mask); a reuse before any refresh; profiling. These need a
// kernel for every stage: until the stage templates land they report
// "SKIP: ... has no GPU kernel yet".
//
// PlanGpuErrors.*: sattn_run's refusals of bad inputs (shape, dtype, null,
// host, misaligned, undersized, strides, negative step). They run today, on
// a plan made from the attention kernel that exists (the compiled test
// kernels, with the stages that have no kernel taken out of the manifest).
//
// Without a GPU every case reports SKIP.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/Metrics.h"
#include "compiler/reference/Pipeline.h"
#include "compiler/reference/Schedule.h"
#include "dialect/VariantJson.h"
#include "runtime/CApiObjects.h"
#include "runtime/DeviceBuffer.h"
#include "runtime/HalfFloat.h"
#include "runtime/Plan.h"
#include "runtime/sattn.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <unistd.h>

using namespace sattn;

namespace {

/// B=1, H=2, S=256, D=64; steps 0-1 dense, refreshes at 2, 5, 8 (the
/// density reaches min_density at 8 and stays), reuses in between.
const char *kVariant = R"({"name": "plan-gpu", "problem": {"batch": 1,
    "heads": 2, "head_dim": 64, "grid": [2, 8, 16], "dtype": "bf16"},
  "reorder": {"kind": "hilbert2d"}, "block": {"q": 64, "k": 32},
  "scoring": {"pool": {"q": 16, "k": 16}},
  "selection": {"rule": "topk", "density": 0.5},
  "schedule": {"dense_warmup_steps": 2, "refresh_every": 3,
               "density_decay": 0.1, "min_density": 0.3},
  "tail": {"bins": 2}})";

struct Gpu {
  std::unique_ptr<Context> context;
  sattn_context *api = nullptr;
  std::string unavailable;
  static Gpu &get() {
    static Gpu gpu;
    return gpu;
  }
  Gpu() {
    Status status = Context::create(0, context);
    if (!status.isOk())
      unavailable = status.message();
    else if (sattn_context_create(0, &api) != SATTN_OK)
      unavailable = sattn_last_error();
  }
};

#define REQUIRE_GPU()                                                          \
  do {                                                                         \
    if (!Gpu::get().unavailable.empty())                                       \
      GTEST_SKIP() << "SKIP: no GPU: " << Gpu::get().unavailable;              \
  } while (false)

/// A plan of `json`, or a skip reason when a stage has no kernel yet.
sattn_plan *createPlan(const char *json, std::string &skip) {
  sattn_plan *plan = nullptr;
  sattn_status status = sattn_plan_create(Gpu::get().api, json, &plan);
  if (status == SATTN_OK)
    return plan;
  std::string message = sattn_last_error();
  if (message.find("has no GPU kernel yet") != std::string::npos)
    skip = "SKIP: " + message;
  else
    ADD_FAILURE() << sattn_status_name(status) << ": " << message;
  return nullptr;
}

/// One bf16 tensor on the GPU in the [B, H, S, D] or [B, S, H, D] layout,
/// with its exact values as a float64 reference tensor.
struct DeviceTensor {
  DeviceBuffer buffer;
  sattn_tensor t{};
  ref::Tensor values;

  DeviceTensor(const std::vector<int64_t> &shape, bool bshd) {
    int64_t B = shape[0], H = shape[1], S = shape[2], D = shape[3];
    EXPECT_TRUE(DeviceBuffer::allocate(*Gpu::get().context,
                                       size_t(B * H * S * D * 2), buffer)
                    .isOk());
    t.data = buffer.data();
    t.dtype = SATTN_BF16;
    for (int i = 0; i < 4; ++i)
      t.shape[i] = shape[i];
    int64_t bhsd[4] = {H * S * D, S * D, D, 1};
    int64_t bshdStrides[4] = {S * H * D, D, H * D, 1};
    for (int i = 0; i < 4; ++i)
      t.strides[i] = bshd ? bshdStrides[i] : bhsd[i];
    values = ref::Tensor(shape);
  }
  size_t offset(int64_t b, int64_t h, int64_t s, int64_t d) const {
    return size_t(b * t.strides[0] + h * t.strides[1] + s * t.strides[2] + d);
  }
  /// Uploads `x` rounded to bf16 and keeps the rounded values.
  void upload(const ref::Tensor &x) {
    std::vector<uint16_t> host(buffer.bytes() / 2);
    const auto &s = x.shape;
    for (int64_t b = 0; b < s[0]; ++b)
      for (int64_t h = 0; h < s[1]; ++h)
        for (int64_t i = 0; i < s[2]; ++i)
          for (int64_t d = 0; d < s[3]; ++d) {
            uint16_t bits = toBf16(float(x(b, h, i, d)));
            host[offset(b, h, i, d)] = bits;
            values(b, h, i, d) = fromBf16(bits);
          }
    EXPECT_TRUE(buffer.upload(host).isOk());
  }
  ref::Tensor download() const {
    std::vector<uint16_t> host(buffer.bytes() / 2);
    EXPECT_TRUE(buffer.download(host).isOk());
    ref::Tensor out(values.shape);
    const auto &s = values.shape;
    for (int64_t b = 0; b < s[0]; ++b)
      for (int64_t h = 0; h < s[1]; ++h)
        for (int64_t i = 0; i < s[2]; ++i)
          for (int64_t d = 0; d < s[3]; ++d)
            out(b, h, i, d) = fromBf16(host[offset(b, h, i, d)]);
    return out;
  }
};

ref::Tensor randomTensor(const std::vector<int64_t> &shape, std::mt19937 &rng,
                         double sigma) {
  std::normal_distribution<double> normal(0.0, sigma);
  ref::Tensor t(shape);
  for (double &x : t.data)
    x = normal(rng);
  return t;
}

/// Relative L2 of head (b, h) of `got` against `want`.
double headRelativeL2(const ref::Tensor &got, const ref::Tensor &want,
                      int64_t b, int64_t h) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < want.dim(2); ++i)
    for (int64_t d = 0; d < want.dim(3); ++d) {
      double e = got(b, h, i, d) - want(b, h, i, d);
      num += e * e;
      den += want(b, h, i, d) * want(b, h, i, d);
    }
  return std::sqrt(num / std::max(den, 1e-300));
}

sattn_step_kind expectedKind(const VariantParams &variant, int64_t step) {
  switch (ref::planStep(variant, step).kind) {
  case ref::StepPlan::Kind::Dense:
    return SATTN_STEP_DENSE;
  case ref::StepPlan::Kind::Refresh:
    return SATTN_STEP_REFRESH;
  case ref::StepPlan::Kind::Reuse:
    return SATTN_STEP_REUSE;
  }
  return SATTN_STEP_NONE;
}

VariantParams parsed(const char *json) {
  VariantResult r = parseVariantJson(json);
  EXPECT_TRUE(r) << r.issue.str();
  return *r.variant;
}

class PlanGpu : public ::testing::TestWithParam<bool> {};

/// The last selection level's buffers of `json`'s manifest (the mask in
/// use): their names and the groups per row.
struct MaskBuffers {
  std::string groups, counts;
  int64_t numGroups = 0;
};
MaskBuffers maskBuffers(const char *json) {
  char *ptx = nullptr, *manifestJson = nullptr;
  MaskBuffers m;
  if (sattn_compile(json, Gpu::get().context->arch().c_str(), &ptx,
                    &manifestJson) != SATTN_OK) {
    ADD_FAILURE() << sattn_last_error();
    return m;
  }
  Manifest manifest;
  std::string error;
  EXPECT_TRUE(parseManifestJson(manifestJson, manifest, error)) << error;
  sattn_free(ptx);
  sattn_free(manifestJson);
  for (const ManifestStage &stage : manifest.stages)
    if (stage.op == "sattn.select") {
      m.groups = stage.outputs[0];
      m.counts = stage.outputs[1];
    }
  for (const ManifestBuffer &b : manifest.buffers)
    if (b.name == m.groups)
      m.numGroups = b.shape[3];
  return m;
}

/// A plan buffer's contents (after sattn_plan_stats waited for the step).
template <typename T>
std::vector<T> planBuffer(sattn_plan *plan, const std::string &name) {
  void *address = nullptr;
  int64_t bytes = 0;
  EXPECT_EQ(sattn_plan_buffer(plan, name.c_str(), &address, &bytes), SATTN_OK)
      << sattn_last_error();
  std::vector<T> host(size_t(bytes) / sizeof(T));
  EXPECT_EQ(Gpu::get().context->cuda().memcpyDtoH(
                host.data(), cu::DevicePtr(uintptr_t(address)), size_t(bytes)),
            0);
  return host;
}

/// The GPU's index lists equal the reference's, row by row; a row may
/// differ only where the reference breaks a tie its f32 scores do not
/// see, so at most `tolerance` of the rows may differ at all.
void expectSameLists(const ref::BlockLists &want, const std::vector<int32_t> &groups,
                     const std::vector<int32_t> &counts, int64_t numGroups,
                     double tolerance) {
  int64_t rows = want.numRows(), differing = 0;
  ASSERT_EQ(int64_t(counts.size()), rows);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int32_t> got(groups.begin() + r * numGroups,
                             groups.begin() + r * numGroups + counts[size_t(r)]);
    if (got != want.rows[size_t(r)])
      ++differing;
  }
  EXPECT_LE(double(differing), tolerance * double(rows))
      << differing << " of " << rows << " rows differ from the reference";
}

/// Runs `json` over steps 0 .. lastStep against ref::VariantRunner: the
/// output per head to 1e-2 relative L2, the step kinds, and at every masked
/// step the per-head kept density (index lists identical up to ties) and
/// estimated recall.
void checkAcrossSteps(const char *json, bool bshd, int64_t lastStep) {
  std::string skip;
  sattn_plan *plan = createPlan(json, skip);
  if (!plan) {
    if (!skip.empty())
      GTEST_SKIP() << skip;
    return;
  }
  VariantParams variant = parsed(json);
  MaskBuffers mask = maskBuffers(json);
  const ProblemParams &p = variant.problem;
  std::vector<int64_t> shape = {p.batch, p.heads, p.seqLen(), p.headDim};
  std::mt19937 rng(7);
  ref::Tensor q0 = randomTensor(shape, rng, 1.0),
              k0 = randomTensor(shape, rng, 1.0),
              v0 = randomTensor(shape, rng, 1.0),
              drift = randomTensor(shape, rng, 0.05);
  DeviceTensor q(shape, bshd), k(shape, bshd), v(shape, bshd),
      out(shape, bshd);
  ref::VariantRunner runner(variant);
  bool sawDense = false, sawRefresh = false, sawReuse = false;
  for (int64_t step = 0; step <= lastStep; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    // Inputs that drift from step to step, as a denoising run's do.
    ref::Tensor qs = q0, ks = k0, vs = v0;
    for (size_t i = 0; i < qs.data.size(); ++i) {
      qs.data[i] += double(step) * drift.data[i];
      ks.data[i] -= double(step) * drift.data[i];
    }
    q.upload(qs);
    k.upload(ks);
    v.upload(vs);
    ASSERT_EQ(sattn_run(plan, &q.t, &k.t, &v.t, &out.t, step, nullptr),
              SATTN_OK)
        << sattn_last_error();
    ref::VariantOutput want = runner.step(q.values, k.values, v.values, step);
    sattn_plan_statistics stats;
    ASSERT_EQ(sattn_plan_stats(plan, &stats), SATTN_OK) << sattn_last_error();
    ref::Tensor got = out.download();
    for (int64_t b = 0; b < p.batch; ++b)
      for (int64_t h = 0; h < p.heads; ++h)
        EXPECT_LE(headRelativeL2(got, want.output, b, h), 1e-2)
            << "head " << h;

    sattn_step_kind kind = expectedKind(variant, step);
    EXPECT_EQ(stats.last_kind, kind);
    EXPECT_EQ(stats.steps_run, step + 1);
    EXPECT_EQ(stats.last_step, step);
    sawDense |= kind == SATTN_STEP_DENSE;
    sawRefresh |= kind == SATTN_STEP_REFRESH;
    sawReuse |= kind == SATTN_STEP_REUSE;
    if (!want.mask) {
      EXPECT_EQ(stats.head_density, nullptr);
      continue;
    }
    EXPECT_EQ(stats.last_refresh_step, want.mask->step);
    ASSERT_NE(stats.head_density, nullptr);
    const ref::BlockLists &lists = want.mask->lists();
    // The index lists themselves: identical, up to rare ties.
    expectSameLists(lists, planBuffer<int32_t>(plan, mask.groups),
                    planBuffer<int32_t>(plan, mask.counts), mask.numGroups,
                    0.02);
    int64_t groups = lists.numGroups;
    for (int64_t b = 0; b < p.batch; ++b)
      for (int64_t h = 0; h < p.heads; ++h) {
        double kept = 0, recall = 0;
        for (int64_t i = 0; i < lists.numQueryBlocks; ++i) {
          kept += double(lists.row(b, h, i).size()) / double(groups);
          recall += lists.recall[size_t(lists.rowIndex(b, h, i))];
        }
        kept /= double(lists.numQueryBlocks);
        recall /= double(lists.numQueryBlocks);
        EXPECT_NEAR(stats.head_density[b * p.heads + h], kept, 1e-6);
        if (stats.head_recall) {
          EXPECT_NEAR(stats.head_recall[b * p.heads + h], recall, 1e-3);
        }
      }
  }
  EXPECT_TRUE(sawDense && sawRefresh && sawReuse);
  sattn_plan_destroy(plan);
}

TEST_P(PlanGpu, MatchesFloat64ReferenceAcrossSteps) {
  REQUIRE_GPU();
  checkAcrossSteps(kVariant, GetParam(), 8);
}

/// The same with reorder and unreorder kernels instead of the token order
/// read inside the pool and attention kernels (SATTN_FUSE_REORDER=0): both
/// forms of the pipeline stay correct.
TEST_P(PlanGpu, MatchesFloat64ReferenceWithSeparateReorder) {
  REQUIRE_GPU();
  ASSERT_EQ(setenv("SATTN_FUSE_REORDER", "0", 1), 0);
  checkAcrossSteps(kVariant, GetParam(), 8);
  unsetenv("SATTN_FUSE_REORDER");
}

TEST_P(PlanGpu, AReuseBeforeAnyRefreshRunsAsARefresh) {
  REQUIRE_GPU();
  bool bshd = GetParam();
  std::string skip;
  sattn_plan *plan = createPlan(kVariant, skip);
  if (!plan) {
    if (!skip.empty())
      GTEST_SKIP() << skip;
    return;
  }
  VariantParams variant = parsed(kVariant);
  ASSERT_EQ(expectedKind(variant, 4), SATTN_STEP_REUSE);
  const ProblemParams &p = variant.problem;
  std::vector<int64_t> shape = {p.batch, p.heads, p.seqLen(), p.headDim};
  std::mt19937 rng(11);
  DeviceTensor q(shape, bshd), k(shape, bshd), v(shape, bshd),
      out(shape, bshd);
  q.upload(randomTensor(shape, rng, 1.0));
  k.upload(randomTensor(shape, rng, 1.0));
  v.upload(randomTensor(shape, rng, 1.0));
  ASSERT_EQ(sattn_run(plan, &q.t, &k.t, &v.t, &out.t, 4, nullptr), SATTN_OK)
      << sattn_last_error();
  sattn_plan_statistics stats;
  ASSERT_EQ(sattn_plan_stats(plan, &stats), SATTN_OK);
  EXPECT_EQ(stats.last_kind, SATTN_STEP_REFRESH);
  EXPECT_EQ(stats.last_refresh_step, 4);
  ref::VariantRunner runner(variant);
  ref::VariantOutput want = runner.step(q.values, k.values, v.values, 4);
  ref::Tensor got = out.download();
  for (int64_t h = 0; h < p.heads; ++h)
    EXPECT_LE(headRelativeL2(got, want.output, 0, h), 1e-2) << "head " << h;
  sattn_plan_destroy(plan);
}

TEST_P(PlanGpu, ProfilingTimesEachStage) {
  REQUIRE_GPU();
  std::string skip;
  sattn_plan *plan = createPlan(kVariant, skip);
  if (!plan) {
    if (!skip.empty())
      GTEST_SKIP() << skip;
    return;
  }
  VariantParams variant = parsed(kVariant);
  const ProblemParams &p = variant.problem;
  std::vector<int64_t> shape = {p.batch, p.heads, p.seqLen(), p.headDim};
  std::mt19937 rng(3);
  DeviceTensor q(shape, GetParam()), k(shape, GetParam()),
      v(shape, GetParam()), out(shape, GetParam());
  q.upload(randomTensor(shape, rng, 1.0));
  k.upload(randomTensor(shape, rng, 1.0));
  v.upload(randomTensor(shape, rng, 1.0));
  sattn_plan_statistics stats;
  ASSERT_EQ(sattn_run(plan, &q.t, &k.t, &v.t, &out.t, 2, nullptr), SATTN_OK);
  ASSERT_EQ(sattn_plan_stats(plan, &stats), SATTN_OK);
  EXPECT_EQ(stats.stage_ms, nullptr); // off by default
  ASSERT_EQ(sattn_plan_set_profiling(plan, 1), SATTN_OK);
  ASSERT_EQ(sattn_run(plan, &q.t, &k.t, &v.t, &out.t, 2, nullptr), SATTN_OK);
  ASSERT_EQ(sattn_plan_stats(plan, &stats), SATTN_OK);
  ASSERT_NE(stats.stage_ms, nullptr);
  ASSERT_GT(stats.stages, 0);
  for (int64_t s = 0; s < stats.stages; ++s)
    EXPECT_GE(stats.stage_ms[s], 0.0f) << stats.stage_names[s];
  sattn_plan_destroy(plan);
}

INSTANTIATE_TEST_SUITE_P(Layouts, PlanGpu, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return info.param ? "BSHD" : "BHSD";
                         });

/// Variants that reach the other paths of the stage kernels: adaptive
/// per-head densities, text tokens (first and last) with keep text and
/// first_frame, two scoring levels,
/// partial last blocks, batch 2, the logit aggregate with topp, threshold
/// without forced groups, head_dim 128, tile / hilbert3d / identity orders,
/// 0, 3 and 4 tail bins.
struct NamedVariant {
  const char *name;
  const char *json;
};
const NamedVariant kVariants[] = {
    {"TextLevelsFirstFrame",
     R"({"name": "plan-text-levels", "problem": {"batch": 2, "heads": 2,
        "head_dim": 64, "grid": [2, 8, 16], "text_tokens": 40,
        "text_position": "first", "dtype": "bf16"},
      "reorder": {"kind": "tile", "tile": [1, 4, 4]},
      "block": {"q": 64, "k": 32},
      "scoring": {"pool": {"q": 16, "k": 16}, "levels": [64, 32]},
      "selection": {"rule": "topk", "density": 0.4,
                    "keep": ["text", "diagonal", "first_frame"]},
      "schedule": {"dense_warmup_steps": 1, "refresh_every": 2},
      "tail": {"bins": 3}})"},
    // The mma.sync template (sm_80 PTX, JIT-compiled for the GPU at hand)
    // reading through a token order, B = 2.
    {"TileOrderSm80",
     R"({"name": "plan-tile-sm80", "problem": {"batch": 2, "heads": 2,
        "head_dim": 64, "grid": [2, 8, 16], "text_tokens": 40,
        "text_position": "first", "dtype": "bf16"},
      "reorder": {"kind": "tile", "tile": [1, 4, 4]},
      "block": {"q": 64, "k": 32},
      "scoring": {"pool": {"q": 16, "k": 16}},
      "selection": {"rule": "topk", "density": 0.4, "keep": ["diagonal"]},
      "schedule": {"dense_warmup_steps": 1, "refresh_every": 2},
      "tail": {"bins": 2}, "target": {"arch": "sm_80"}})"},
    {"LogitTopP",
     R"({"name": "plan-logit-topp", "problem": {"batch": 1, "heads": 3,
        "head_dim": 128, "grid": [4, 6, 10], "text_tokens": 24,
        "text_position": "last", "dtype": "bf16"},
      "reorder": {"kind": "hilbert3d"}, "block": {"q": 64, "k": 32},
      "scoring": {"pool": {"q": 16, "k": 16}, "aggregate": "logit",
                  "levels": [128, 32]},
      "selection": {"rule": "topp", "p": 0.7, "keep": ["diagonal"]},
      "schedule": {"dense_warmup_steps": 1, "refresh_every": 2},
      "tail": {"bins": 4}})"},
    {"AdaptiveTwoLevels",
     R"({"name": "plan-adaptive", "problem": {"batch": 1, "heads": 3,
        "head_dim": 64, "grid": [2, 8, 16], "text_tokens": 16,
        "text_position": "last", "dtype": "bf16"},
      "reorder": {"kind": "hilbert2d"}, "block": {"q": 64, "k": 32},
      "scoring": {"pool": {"q": 16, "k": 16}, "levels": [64, 32]},
      "selection": {"rule": "topk", "density": 0.3,
                    "keep": ["text", "diagonal"]},
      "adaptive": {"target_recall": 0.9, "min_density": 0.1,
                   "max_density": 0.6},
      "schedule": {"dense_warmup_steps": 1, "refresh_every": 2},
      "tail": {"bins": 2}})"},
    {"Threshold",
     R"({"name": "plan-threshold", "problem": {"batch": 1, "heads": 2,
        "head_dim": 128, "grid": [3, 8, 12], "dtype": "bf16"},
      "reorder": {"kind": "identity"}, "block": {"q": 128, "k": 64},
      "scoring": {"pool": {"q": 32, "k": 16}},
      "selection": {"rule": "threshold", "threshold": 0.02, "keep": []},
      "schedule": {"dense_warmup_steps": 1, "refresh_every": 2},
      "tail": {"bins": 0}})"},
};

void PrintTo(const NamedVariant &variant, std::ostream *os) {
  *os << variant.name;
}

class PlanGpuVariants : public ::testing::TestWithParam<NamedVariant> {};

TEST_P(PlanGpuVariants, MatchesFloat64ReferenceAcrossSteps) {
  REQUIRE_GPU();
  checkAcrossSteps(GetParam().json, /*bshd=*/false, 4);
}

INSTANTIATE_TEST_SUITE_P(Variants, PlanGpuVariants,
                         ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<NamedVariant> &i) {
                           return std::string(i.param.name);
                         });

//===- sattn_run's refusals -----------------------------------------------===//

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A plan over the attention kernel alone: the test kernels' manifest with
/// every other stage taken out (their buffers stay, as zero-filled
/// workspace: empty index lists). Its shape: [1, 1, 256, 64] bf16.
std::unique_ptr<sattn_plan> attentionOnlyPlan(std::string &why) {
  const char *dir = std::getenv("SATTN_GPU_KERNELS");
  std::string folder = dir ? dir : SATTN_GPU_KERNEL_DIR;
  std::string name = folder + "/attn-sm_80-mma-bf16-d64-q64-k32-b0";
  Manifest manifest;
  std::string error;
  if (!parseManifestJson(readFile(name + ".manifest.json"), manifest, error)) {
    why = name + ".manifest.json: " + error;
    return nullptr;
  }
  std::vector<ManifestStage> stages;
  for (ManifestStage &stage : manifest.stages)
    if (stage.op == "sattn.sparse_attention")
      stages.push_back(std::move(stage));
  manifest.stages = std::move(stages);
  std::unique_ptr<KernelModule> module;
  Status status = KernelModule::load(*Gpu::get().context, readFile(name + ".ptx"),
                                     std::move(manifest), module);
  auto plan = std::make_unique<sattn_plan>();
  if (status.isOk())
    status = Plan::create(std::move(module), plan->impl);
  if (!status.isOk()) {
    why = status.message();
    return nullptr;
  }
  return plan;
}

TEST(PlanGpuErrors, BadInputsAreRefused) {
  REQUIRE_GPU();
  std::string why;
  std::unique_ptr<sattn_plan> plan = attentionOnlyPlan(why);
  ASSERT_TRUE(plan) << why;
  Plan &p = *plan->impl;
  std::vector<int64_t> shape = {1, 1, 256, 64};
  DeviceTensor q(shape, false), k(shape, false), v(shape, false),
      out(shape, false);
  ASSERT_TRUE(p.run(q.t, k.t, v.t, out.t, 0, nullptr).isOk());
  sattn_plan_statistics stats;
  ASSERT_TRUE(p.stats(stats).isOk());
  EXPECT_EQ(stats.steps_run, 1);

  auto refused = [&](const sattn_tensor &bad, int64_t step,
                     const std::string &expected) {
    Status status = p.run(q.t, bad, v.t, out.t, step, nullptr);
    EXPECT_EQ(status.code(), SATTN_ERROR_INVALID_ARGUMENT) << expected;
    EXPECT_NE(status.message().find(expected), std::string::npos)
        << status.message();
  };
  sattn_tensor bad = k.t;
  bad.shape[2] = 128;
  refused(bad, 0, "k.shape is [1, 1, 128, 64], the plan's shape is "
                  "[1, 1, 256, 64]");
  bad = k.t;
  bad.dtype = SATTN_FP16;
  refused(bad, 0, "k.dtype is fp16, the kernels take bf16");
  bad = k.t;
  bad.data = nullptr;
  refused(bad, 0, "k.data is null");
  alignas(16) static uint16_t host[256 * 64];
  bad = k.t;
  bad.data = host;
  refused(bad, 0, "k.data is not CUDA memory");
  bad = k.t;
  bad.data = static_cast<char *>(k.t.data) + 2;
  refused(bad, 0, "k.data is not 16-byte aligned");
  bad = k.t;
  bad.strides[3] = 2;
  refused(bad, 0, "the head dimension must be contiguous");
  bad = k.t;
  bad.strides[2] = 68;
  refused(bad, 0, "strides must be non-negative multiples of 8");
  DeviceBuffer small;
  ASSERT_TRUE(
      DeviceBuffer::allocate(*Gpu::get().context, 128 * 64 * 2, small).isOk());
  bad = k.t;
  bad.data = small.data();
  refused(bad, 0, "k.data needs 32768 bytes from there on");
  refused(k.t, -1, "step is -1");
  // Refused calls leave the plan as it was.
  ASSERT_TRUE(p.stats(stats).isOk());
  EXPECT_EQ(stats.steps_run, 1);
  EXPECT_EQ(stats.last_kind, SATTN_STEP_REFRESH); // no schedule: a refresh
}

TEST(PlanGpuErrors, AnAttentionOnlyPlanRunsAndProfilesItsStages) {
  // The plan's machinery (arena, launch program, events, stats) on the
  // attention stage alone.
  REQUIRE_GPU();
  std::string why;
  std::unique_ptr<sattn_plan> plan = attentionOnlyPlan(why);
  ASSERT_TRUE(plan) << why;
  Plan &p = *plan->impl;
  std::vector<int64_t> shape = {1, 1, 256, 64};
  DeviceTensor q(shape, true), k(shape, true), v(shape, true),
      out(shape, true);
  sattn_plan_statistics stats;
  ASSERT_TRUE(p.stats(stats).isOk()); // before any step
  EXPECT_EQ(stats.last_kind, SATTN_STEP_NONE);
  EXPECT_EQ(stats.last_step, -1);
  EXPECT_EQ(stats.stage_ms, nullptr);
  ASSERT_TRUE(p.setProfiling(true).isOk());
  for (int64_t step = 0; step < 3; ++step)
    ASSERT_TRUE(p.run(q.t, k.t, v.t, out.t, step, nullptr).isOk());
  ASSERT_TRUE(p.stats(stats).isOk());
  EXPECT_EQ(stats.steps_run, 3);
  EXPECT_EQ(stats.last_step, 2);
  EXPECT_EQ(stats.last_refresh_step, 2);
  EXPECT_EQ(stats.head_density, nullptr); // no selection stage here
  ASSERT_EQ(stats.stages, 1);
  EXPECT_STREQ(stats.stage_names[0], "sattn.sparse_attention");
  ASSERT_NE(stats.stage_ms, nullptr);
  EXPECT_GT(stats.stage_ms[0], 0.0f);
  ASSERT_TRUE(p.setProfiling(false).isOk());
  ASSERT_TRUE(p.run(q.t, k.t, v.t, out.t, 3, nullptr).isOk());
  ASSERT_TRUE(p.stats(stats).isOk());
  EXPECT_EQ(stats.stage_ms, nullptr);
}

} // namespace
