//===- LaunchProgramTest.cpp - The manifest walk of plans, without a GPU --===//
//
// A hand-made manifest with one kernel of each schedule class (always,
// sparse, refresh) and every kind of parameter: which kernels each step
// kind launches, the reuse-before-refresh rule, the bound argument values
// (caller tensors and their strides, workspace addresses and contiguous
// strides, per-step density and dense flag, fixed scalars of each type), and
// the manifests a plan refuses.
//
//===----------------------------------------------------------------------===//

#include "runtime/LaunchProgram.h"
#include "runtime/KernelModule.h"
#include "dialect/VariantJson.h"

#include <gtest/gtest.h>

#include <cstring>

namespace sattn {
namespace {

ManifestParam buffer(std::string name, std::string bound) {
  ManifestParam p;
  p.role = ManifestParam::Role::Buffer;
  p.name = std::move(name);
  p.type = "ptr";
  p.buffer = std::move(bound);
  return p;
}

ManifestParam stride(std::string name, std::string bound, int64_t dim,
                     std::string type = "i64") {
  ManifestParam p;
  p.role = ManifestParam::Role::Stride;
  p.name = std::move(name);
  p.type = std::move(type);
  p.dim = dim;
  p.buffer = std::move(bound);
  return p;
}

ManifestParam scalar(std::string name, std::string type, double value) {
  ManifestParam p;
  p.role = ManifestParam::Role::Scalar;
  p.name = std::move(name);
  p.type = std::move(type);
  p.value = value;
  return p;
}

ManifestParam source(std::string name, std::string type, std::string from) {
  ManifestParam p;
  p.role = ManifestParam::Role::Scalar;
  p.name = std::move(name);
  p.type = std::move(type);
  p.source = std::move(from);
  return p;
}

ManifestBuffer buf(std::string name, ManifestBuffer::Kind kind,
                   std::string dtype, std::vector<int64_t> shape) {
  ManifestBuffer b;
  b.name = std::move(name);
  b.kind = kind;
  b.dtype = std::move(dtype);
  b.shape = std::move(shape);
  return b;
}

ManifestKernel kernel(std::string name, std::string stage, KernelWhen when,
                      std::vector<ManifestParam> params) {
  ManifestKernel k;
  k.name = std::move(name);
  k.stage = std::move(stage);
  k.when = when;
  k.grid = {4, 2, 1};
  k.block = {128, 1, 1};
  k.params = std::move(params);
  return k;
}

/// B=1, H=2, S=256, D=64: pool (always), select (refresh), attention
/// (sparse; and an always kernel in the same stage), unreorder (always).
Manifest handMade() {
  using K = ManifestBuffer::Kind;
  Manifest m;
  m.name = "hand";
  m.buffers = {buf("q", K::Input, "bf16", {1, 2, 256, 64}),
               buf("k", K::Input, "bf16", {1, 2, 256, 64}),
               buf("v", K::Input, "bf16", {1, 2, 256, 64}),
               buf("out", K::Output, "bf16", {1, 2, 256, 64}),
               buf("pool_0.means", K::Workspace, "f32", {1, 2, 16, 64}),
               buf("select_1.counts", K::Workspace, "i32", {1, 2, 4}),
               buf("attn_2.out", K::Workspace, "bf16", {1, 2, 256, 64}),
               buf("order", K::Constant, "i32", {256})};
  m.buffers.back().fill = "token_order";
  ManifestStage pool{"sattn.pool", {"pool_k"}, {"q"}, {"pool_0.means"}};
  ManifestStage select{
      "sattn.select", {"select_k"}, {"pool_0.means"}, {"select_1.counts"}};
  ManifestStage attn{"sattn.sparse_attention",
                     {"attn_k", "attn_merge_k"},
                     {"q", "k", "v", "select_1.counts"},
                     {"attn_2.out"}};
  ManifestStage unreorder{
      "sattn.unreorder", {"unreorder_k"}, {"attn_2.out"}, {"out"}};
  m.stages = {pool, select, attn, unreorder};
  m.kernels = {
      kernel("pool_k", "pool", KernelWhen::Always,
             {buffer("x", "q"), stride("x", "q", 0), stride("x", "q", 1),
              stride("x", "q", 2), buffer("means", "pool_0.means"),
              stride("means", "pool_0.means", 1, "i32"),
              scalar("tile", "i32", 16)}),
      kernel("select_k", "select", KernelWhen::Refresh,
             {buffer("scores", "pool_0.means"),
              buffer("counts", "select_1.counts"),
              source("density", "f32", "density"),
              scalar("big", "i64", 5000000000.0),
              source("density", "f64", "density")}),
      kernel("attn_k", "sparse_attention", KernelWhen::Sparse,
             {buffer("q", "q"), buffer("k", "k"), buffer("v", "v"),
              buffer("counts", "select_1.counts"),
              buffer("out", "attn_2.out"), stride("out", "attn_2.out", 2),
              source("dense", "i32", "dense"),
              scalar("scale", "f32", 0.125)}),
      kernel("attn_merge_k", "sparse_attention", KernelWhen::Always,
             {buffer("out", "attn_2.out"), source("dense", "i64", "dense")}),
      kernel("unreorder_k", "unreorder", KernelWhen::Always,
             {buffer("x", "attn_2.out"), buffer("out", "out"),
              stride("out", "out", 1), buffer("order", "order")}),
  };
  return m;
}

const std::map<std::string, uint64_t> kOwned = {
    {"pool_0.means", 0x10000},
    {"select_1.counts", 0x20000},
    {"attn_2.out", 0x30000},
    {"order", 0x40000}};

template <typename T> T slotAs(const Launch &launch, size_t slot) {
  T value;
  std::memcpy(&value, &launch.slots[slot], sizeof value);
  return value;
}

const Launch &launchOf(const LaunchProgram &program, const Manifest &m,
                       const std::string &name) {
  for (const Launch &launch : program.launches())
    if (m.kernels[launch.kernel].name == name)
      return launch;
  throw std::runtime_error("no launch of " + name);
}

std::vector<std::string> launched(const LaunchProgram &program,
                                  const Manifest &m, StepKind kind) {
  std::vector<std::string> names;
  for (const Launch &launch : program.launches())
    if (runsOn(launch.when, kind))
      names.push_back(m.kernels[launch.kernel].name);
  return names;
}

IoBinding callerTensors() {
  IoBinding io;
  // q in [B, H, S, D]; k, v, out in [B, S, H, D] views.
  io[kIoQ] = {0xa000, {2 * 256 * 64, 256 * 64, 64}};
  io[kIoK] = {0xb000, {256 * 2 * 64, 64, 2 * 64}};
  io[kIoV] = {0xc000, {256 * 2 * 64, 64, 2 * 64}};
  io[kIoOut] = {0xd000, {256 * 2 * 64, 64, 2 * 64}};
  return io;
}

TEST(LaunchProgram, EachStepKindLaunchesItsKernelsInStageOrder) {
  Manifest m = handMade();
  LaunchProgram program;
  ASSERT_TRUE(LaunchProgram::build(m, kOwned, program).isOk());
  using V = std::vector<std::string>;
  EXPECT_EQ(launched(program, m, StepKind::Dense),
            (V{"pool_k", "attn_merge_k", "unreorder_k"}));
  EXPECT_EQ(launched(program, m, StepKind::Refresh),
            (V{"pool_k", "select_k", "attn_k", "attn_merge_k", "unreorder_k"}));
  EXPECT_EQ(launched(program, m, StepKind::Reuse),
            (V{"pool_k", "attn_k", "attn_merge_k", "unreorder_k"}));
  EXPECT_EQ(program.launches()[2].stage, 2u);
  EXPECT_EQ(program.launches()[2].grid, (std::array<unsigned, 3>{4, 2, 1}));
}

TEST(LaunchProgram, ReuseBeforeAnyRefreshRunsAsARefresh) {
  EXPECT_EQ(effectiveStepKind(StepKind::Reuse, false), StepKind::Refresh);
  EXPECT_EQ(effectiveStepKind(StepKind::Reuse, true), StepKind::Reuse);
  EXPECT_EQ(effectiveStepKind(StepKind::Dense, false), StepKind::Dense);
  EXPECT_EQ(effectiveStepKind(StepKind::Refresh, true), StepKind::Refresh);
}

TEST(LaunchProgram, ContiguousStrides) {
  std::vector<int64_t> bhsd = {2, 3, 5, 7};
  EXPECT_EQ(contiguousStride(bhsd, 0), 3 * 5 * 7);
  EXPECT_EQ(contiguousStride(bhsd, 1), 5 * 7);
  EXPECT_EQ(contiguousStride(bhsd, 2), 7);
  std::vector<int64_t> bhnqg = {2, 3, 4, 5, 6};
  EXPECT_EQ(contiguousStride(bhnqg, 0), 3 * 4 * 5 * 6);
  EXPECT_EQ(contiguousStride(bhnqg, 2), 5 * 6);
  EXPECT_EQ(contiguousStride({2, 3, 4}, 2), 1);
}

TEST(LaunchProgram, BindsEveryArgument) {
  Manifest m = handMade();
  LaunchProgram program;
  ASSERT_TRUE(LaunchProgram::build(m, kOwned, program).isOk());
  IoBinding io = callerTensors();
  ASSERT_TRUE(program.bind(io, 0.29, false).isOk());

  const Launch &pool = launchOf(program, m, "pool_k");
  EXPECT_EQ(slotAs<uint64_t>(pool, 0), 0xa000u);
  EXPECT_EQ(slotAs<int64_t>(pool, 1), 2 * 256 * 64); // the caller's strides
  EXPECT_EQ(slotAs<int64_t>(pool, 2), 256 * 64);
  EXPECT_EQ(slotAs<int64_t>(pool, 3), 64);
  EXPECT_EQ(slotAs<uint64_t>(pool, 4), 0x10000u); // workspace
  EXPECT_EQ(pool.slots[5], uint64_t(16 * 64));    // contiguous, i32
  EXPECT_EQ(slotAs<int32_t>(pool, 6), 16);

  const Launch &select = launchOf(program, m, "select_k");
  EXPECT_EQ(slotAs<float>(select, 2), 0.29f);
  EXPECT_EQ(slotAs<int64_t>(select, 3), 5000000000);
  // An f64 slot keeps the double: topk counts floor(density * G) with it.
  EXPECT_EQ(slotAs<double>(select, 4), 0.29);

  const Launch &attn = launchOf(program, m, "attn_k");
  EXPECT_EQ(slotAs<uint64_t>(attn, 1), 0xb000u);
  EXPECT_EQ(slotAs<uint64_t>(attn, 2), 0xc000u);
  EXPECT_EQ(slotAs<uint64_t>(attn, 3), 0x20000u);
  EXPECT_EQ(slotAs<int64_t>(attn, 5), 64); // attn_2.out [1,2,256,64], dim 2
  EXPECT_EQ(slotAs<int32_t>(attn, 6), 0);
  EXPECT_EQ(slotAs<float>(attn, 7), 0.125f);

  const Launch &unreorder = launchOf(program, m, "unreorder_k");
  EXPECT_EQ(slotAs<uint64_t>(unreorder, 1), 0xd000u);
  EXPECT_EQ(slotAs<int64_t>(unreorder, 2), 64); // out as a [B,S,H,D] view
  EXPECT_EQ(slotAs<uint64_t>(unreorder, 3), 0x40000u); // the constant

  // Pointers point at the slots, in order.
  for (const Launch &launch : program.launches())
    for (size_t i = 0; i < launch.slots.size(); ++i)
      EXPECT_EQ(launch.pointers[i], &launch.slots[i]);

  // A dense step: dense = 1 (i32 and i64), density 1; new tensors rebind.
  io[kIoQ].address = 0xe000;
  io[kIoQ].strides = {1024, 512, 128};
  ASSERT_TRUE(program.bind(io, 1.0, true).isOk());
  EXPECT_EQ(slotAs<uint64_t>(pool, 0), 0xe000u);
  EXPECT_EQ(slotAs<int64_t>(pool, 3), 128);
  EXPECT_EQ(slotAs<int32_t>(attn, 6), 1);
  EXPECT_EQ(slotAs<int64_t>(launchOf(program, m, "attn_merge_k"), 1), 1);
  EXPECT_EQ(slotAs<float>(select, 2), 1.0f);
}

ManifestParam tensorMap(std::string name, std::string bound) {
  ManifestParam p;
  p.role = ManifestParam::Role::TensorMap;
  p.name = std::move(name);
  p.type = "tensormap";
  p.box = {64, 32};
  p.swizzle = 128;
  p.buffer = std::move(bound);
  return p;
}

/// The hand-made manifest with the attention kernel taking tensor maps of
/// the caller's k and of a workspace buffer (as after a reorder).
Manifest withTensorMaps() {
  Manifest m = handMade();
  m.buffers.insert(m.buffers.end() - 1,
                   buf("reorder_3.reordered", ManifestBuffer::Kind::Workspace,
                       "bf16", {1, 2, 256, 64}));
  m.kernels[2].params.push_back(tensorMap("k", "k"));
  m.kernels[2].params.push_back(tensorMap("v", "reorder_3.reordered"));
  return m;
}

/// An encoder that records each request and writes its address and token
/// stride into the map's first words.
struct RecordingEncoder {
  std::vector<TensorMapRequest> requests;
  TensorMapEncoder encoder() {
    return [this](const TensorMapRequest &r, cu::TensorMap &map) {
      if (std::string problem = tensorMapProblem(r); !problem.empty())
        return Status::invalid(problem);
      requests.push_back(r);
      map.words[0] = r.address;
      map.words[1] = uint64_t(r.strides[2]);
      return Status::ok();
    };
  }
};

TEST(LaunchProgram, EncodesTensorMapsOfWorkspacesOnceAndOfTheCallerPerBind) {
  Manifest m = withTensorMaps();
  std::map<std::string, uint64_t> owned = kOwned;
  owned["reorder_3.reordered"] = 0x50000;
  RecordingEncoder recorder;
  LaunchProgram program;
  ASSERT_TRUE(
      LaunchProgram::build(m, owned, program, recorder.encoder()).isOk());
  // The workspace's map at build, over its contiguous [1, 2, 256, 64].
  ASSERT_EQ(recorder.requests.size(), 1u);
  EXPECT_EQ(recorder.requests[0].address, 0x50000u);
  EXPECT_EQ(recorder.requests[0].strides, (std::array<int64_t, 3>{
                                              2 * 256 * 64, 256 * 64, 64}));
  EXPECT_EQ(recorder.requests[0].shape,
            (std::array<int64_t, 4>{1, 2, 256, 64}));
  EXPECT_EQ(recorder.requests[0].box, (std::array<int64_t, 2>{64, 32}));
  EXPECT_EQ(recorder.requests[0].swizzle, 128);

  // The caller's k at each bind, with its address and strides.
  IoBinding io = callerTensors();
  ASSERT_TRUE(program.bind(io, 0.29, false).isOk());
  ASSERT_EQ(recorder.requests.size(), 2u);
  EXPECT_EQ(recorder.requests[1].address, 0xb000u);
  EXPECT_EQ(recorder.requests[1].strides, io[kIoK].strides);
  const Launch &attn = launchOf(program, m, "attn_k");
  ASSERT_EQ(attn.maps.size(), 2u);
  size_t kMap = attn.slots.size() - 2, vMap = attn.slots.size() - 1;
  EXPECT_EQ(attn.pointers[kMap], &attn.maps[0]);
  EXPECT_EQ(attn.pointers[vMap], &attn.maps[1]);
  EXPECT_EQ(attn.maps[0].words[0], 0xb000u);
  EXPECT_EQ(attn.maps[0].words[1], uint64_t(2 * 64));
  EXPECT_EQ(attn.maps[1].words[0], 0x50000u);
  // The other parameters still point at their slots.
  EXPECT_EQ(attn.pointers[0], &attn.slots[0]);

  // A caller's k that TMA cannot take is refused by name.
  io[kIoK].address = 0xb008;
  Status status = program.bind(io, 0.29, false);
  EXPECT_EQ(status.code(), SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(status.message().find("k: the address is not 16-byte aligned"),
            std::string::npos)
      << status.message();
}

TEST(LaunchProgram, TensorMapsNeedAnEncoder) {
  Manifest m = withTensorMaps();
  std::map<std::string, uint64_t> owned = kOwned;
  owned["reorder_3.reordered"] = 0x50000;
  LaunchProgram program;
  Status status = LaunchProgram::build(m, owned, program);
  EXPECT_EQ(status.code(), SATTN_ERROR_INVALID_KERNELS);
  EXPECT_NE(status.message().find("no encoder"), std::string::npos)
      << status.message();
}

TEST(TensorMap, ProblemsNameTheField) {
  TensorMapRequest r;
  r.what = "k";
  r.address = 0x1000;
  r.shape = {1, 2, 300, 128};
  r.strides = {300 * 2 * 128, 128, 2 * 128}; // [B, S, H, D]
  r.box = {64, 128};
  r.swizzle = 128;
  EXPECT_EQ(tensorMapProblem(r), "");
  auto problemWith = [&](auto change) {
    TensorMapRequest bad = r;
    change(bad);
    return tensorMapProblem(bad);
  };
  EXPECT_NE(problemWith([](auto &b) { b.address += 8; })
                .find("k: the address is not 16-byte aligned"),
            std::string::npos);
  EXPECT_NE(problemWith([](auto &b) { b.strides[2] = 132; })
                .find("k: token stride 132 elements"),
            std::string::npos);
  EXPECT_NE(problemWith([](auto &b) { b.shape[2] = 0; })
                .find("k: token size 0"),
            std::string::npos);
  EXPECT_NE(problemWith([](auto &b) { b.box = {128, 128}; })
                .find("a box of 128 columns at head_dim 128 with a 128-byte"),
            std::string::npos);
  EXPECT_NE(problemWith([](auto &b) { b.box = {64, 512}; })
                .find("a box of 512 rows"),
            std::string::npos);
  EXPECT_NE(problemWith([](auto &b) { b.swizzle = 16; }).find("swizzle 16"),
            std::string::npos);
}

TEST(LaunchProgram, AStageWithoutKernelsIsRefusedByName) {
  Manifest m = handMade();
  m.stages[1].kernels.clear();
  LaunchProgram program;
  Status status = LaunchProgram::build(m, kOwned, program);
  EXPECT_EQ(status.code(), SATTN_ERROR_INVALID_VARIANT);
  EXPECT_NE(status.message().find("stage sattn.select has no GPU kernel yet"),
            std::string::npos)
      << status.message();
  // With the compiler's reason.
  m.stages[1].note = "adaptive per-head densities";
  status = LaunchProgram::build(m, kOwned, program);
  EXPECT_NE(status.message().find("stage sattn.select has no GPU kernel yet "
                                  "(adaptive per-head densities)"),
            std::string::npos)
      << status.message();
}

TEST(ManifestJson, KeepsConstantsSourcesWhenNotesAndImplementation) {
  Manifest m = withTensorMaps();
  VariantResult variant = parseVariantJson(
      R"({"name": "hand", "problem": {"heads": 2, "head_dim": 64,
          "grid": [1, 16, 16]}})");
  ASSERT_TRUE(variant) << variant.issue.str();
  m.variant = *variant.variant;
  m.stages[1].note = "adaptive per-head densities";
  m.kernels.back().implementation = "wgmma key_tile=128 stages=2";
  m.kernels.back().persistent = true;
  Manifest back;
  std::string error;
  std::string text = writeManifestJson(m);
  ASSERT_TRUE(parseManifestJson(text, back, error)) << error;
  EXPECT_EQ(back.buffers.back().kind, ManifestBuffer::Kind::Constant);
  EXPECT_EQ(back.buffers.back().fill, "token_order");
  EXPECT_EQ(back.stages[1].note, "adaptive per-head densities");
  EXPECT_EQ(back.stages[2].kernels,
            (std::vector<std::string>{"attn_k", "attn_merge_k"}));
  ASSERT_EQ(back.kernels.size(), m.kernels.size());
  for (size_t k = 0; k < m.kernels.size(); ++k) {
    EXPECT_EQ(back.kernels[k].when, m.kernels[k].when) << m.kernels[k].name;
    EXPECT_EQ(back.kernels[k].implementation, m.kernels[k].implementation)
        << m.kernels[k].name;
    EXPECT_EQ(back.kernels[k].persistent, m.kernels[k].persistent)
        << m.kernels[k].name;
    ASSERT_EQ(back.kernels[k].params.size(), m.kernels[k].params.size());
    for (size_t i = 0; i < m.kernels[k].params.size(); ++i) {
      const ManifestParam &was = m.kernels[k].params[i];
      const ManifestParam &is = back.kernels[k].params[i];
      EXPECT_EQ(is.source, was.source);
      EXPECT_EQ(is.role, was.role);
      EXPECT_EQ(is.buffer, was.buffer);
      EXPECT_EQ(is.box, was.box);
      EXPECT_EQ(is.swizzle, was.swizzle);
    }
  }
  EXPECT_EQ(back.kernels[2].params.back().role,
            ManifestParam::Role::TensorMap);

  // Unknown values are refused with the field.
  struct Case {
    std::string from, to, expected;
  };
  for (const Case &c : std::vector<Case>{
           {"\"fill\": \"token_order\"", "\"fill\": \"tokens\"",
            "buffers: constant fill \"tokens\" is unknown"},
           {"\"kind\": \"constant\"", "\"kind\": \"table\"",
            "buffers: kind \"table\" is unknown"},
           {"\"when\": \"refresh\"", "\"when\": \"sometimes\"",
            "kernels: when \"sometimes\" is unknown"},
           {"\"source\": \"dense\"", "\"source\": \"step\"",
            "kernels: scalar source \"step\" is unknown"},
           {"\"role\": \"tensor_map\"", "\"role\": \"texture\"",
            "kernels: parameter role \"texture\" is unknown"}}) {
    std::string bad = text;
    size_t at = bad.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    bad.replace(at, c.from.size(), c.to);
    EXPECT_FALSE(parseManifestJson(bad, back, error)) << c.to;
    EXPECT_EQ(error, c.expected);
  }
}

TEST(LaunchGrid, APersistentKernelGetsOneCtaPerMultiprocessorAtMost) {
  ManifestKernel kernel;
  // Not persistent: the problem's grid as it is.
  EXPECT_EQ(launchGrid(kernel, {256, 40, 2}, 132),
            (std::array<unsigned, 3>{256, 40, 2}));
  kernel.persistent = true;
  // The work items (a plan's manifest grid, or the direct call's problem
  // grid) over the multiprocessors, in x.
  EXPECT_EQ(launchGrid(kernel, {10240, 1, 1}, 132),
            (std::array<unsigned, 3>{132, 1, 1}));
  EXPECT_EQ(launchGrid(kernel, {256, 40, 2}, 132),
            (std::array<unsigned, 3>{132, 1, 1}));
  // Fewer items than multiprocessors: one CTA each.
  EXPECT_EQ(launchGrid(kernel, {2, 3, 4}, 132),
            (std::array<unsigned, 3>{24, 1, 1}));
  // A driver that reported no multiprocessors still gets a launchable grid.
  EXPECT_EQ(launchGrid(kernel, {8, 1, 1}, 0),
            (std::array<unsigned, 3>{1, 1, 1}));
}

TEST(LaunchProgram, BadManifestsAreRefusedWithTheParameter) {
  struct Case {
    const char *why;
    void (*edit)(Manifest &);
    const char *expected;
  };
  const Case cases[] = {
      {"unknown buffer",
       [](Manifest &m) { m.kernels[0].params[0].buffer = "nowhere"; },
       "pool_k parameter 0 (x): unknown buffer \"nowhere\""},
      {"unknown kernel", [](Manifest &m) { m.stages[0].kernels = {"gone"}; },
       "names kernel gone"},
      {"input not q, k, v",
       [](Manifest &m) { m.buffers[0].name = "query"; }, "buffer query"},
      {"density not f32",
       [](Manifest &m) { m.kernels[1].params[2].type = "i32"; },
       "source density needs type f32"},
      {"scalar with no value",
       [](Manifest &m) { m.kernels[0].params[6].value.reset(); },
       "neither value nor source"},
      {"stride past the rank",
       [](Manifest &m) {
         m.kernels[0].params[5] = stride("means", "select_1.counts", 2);
         m.kernels[0].params[5].dim = 3;
       },
       "stride of dimension 3"},
      {"grid too large", [](Manifest &m) { m.kernels[2].grid[1] = 70000; },
       "grid[1] is 70000"},
      {"workspace without memory",
       [](Manifest &m) {
         m.buffers.push_back(
             buf("extra", ManifestBuffer::Kind::Workspace, "f32", {4}));
       },
       "workspace buffer extra has no memory"},
  };
  for (const Case &c : cases) {
    Manifest m = handMade();
    c.edit(m);
    LaunchProgram program;
    Status status = LaunchProgram::build(m, kOwned, program);
    EXPECT_EQ(status.code(), SATTN_ERROR_INVALID_KERNELS) << c.why;
    EXPECT_NE(status.message().find(c.expected), std::string::npos)
        << c.why << ": " << status.message();
  }
}

TEST(LaunchProgram, TheLinearPathIsRefused) {
  VariantParams variant;
  variant.name = "lin";
  EXPECT_TRUE(checkPlannable(variant).isOk());
  variant.linear.enabled = true;
  Status status = checkPlannable(variant);
  EXPECT_EQ(status.code(), SATTN_ERROR_INVALID_VARIANT);
  EXPECT_NE(status.message().find("linear.enabled"), std::string::npos);
}

} // namespace
} // namespace sattn
