//===- SparseAttentionGpuTest.cpp - The attention kernels vs float64 ------===//
//
// Each case runs one compiled sparse-attention kernel through the C API on
// fresh random or video-like inputs and a random block mask (with text
// tokens first or last, tail bins, B = 2), and compares it with the float64
// reference on the same inputs (rounded to bf16/fp16 first, so that both see
// the same numbers) and the same mask:
//   - relative L2 of the output <= 1e-2,
//   - every element written (the output is poisoned with NaN before the
//     launch) and no NaN anywhere,
//   - the log-sum-exp, when the kernel writes it, within 2e-2.
// Long sequences (S = 32760) are checked on a sample of query blocks.
//
// Without a GPU every case reports SKIP. SATTN_GPU_KERNELS overrides the
// folder of the compiled kernels; SATTN_TEST_SEED fixes the random seed
// (printed on failure).
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/Attention.h"
#include "compiler/reference/Synthetic.h"
#include "dialect/VariantJson.h"
#include "runtime/Context.h"
#include "runtime/DeviceBuffer.h"
#include "runtime/HalfFloat.h"
#include "runtime/sattn.h"
#include "tools/sattn-bench/RandomMask.h"

#include <gtest/gtest.h>

#include <chrono>
#include <tuple>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>

using namespace sattn;

namespace {

constexpr int64_t kBatch = 2, kHeads = 2;

struct Case {
  std::string arch = "sm_90a", tmpl = "mma";
  DType dtype = DType::BF16;
  int64_t d = 128, bq = 128, bk = 128, bins = 0;
  int64_t keyTile = 0; // 0: the template's default
  bool lse = false;
  int64_t seq = 1000, text = 0;
  bool textFirst = false;
  double density = 0.1;
  int64_t groupsPerRow = 0;
  bool structured = false, bshd = false;
  /// The kernel reads q, k, v and writes out (and the log-sum-exp) through
  /// a token-order table (the pipeline's fused reorder): the test passes a
  /// random permutation and stores each position's row where it says.
  bool tokenOrder = false;
  /// The warp-specialized kernel with the persistent grid (--persistent).
  bool persistent = false;

  std::string kernel() const {
    return "attn-" + arch + "-" + tmpl + "-" +
           (dtype == DType::BF16 ? "bf16" : "fp16") + "-d" + std::to_string(d) +
           "-q" + std::to_string(bq) + "-k" + std::to_string(bk) + "-b" +
           std::to_string(bins) + (lse ? "-lse" : "") +
           (keyTile ? "-t" + std::to_string(keyTile) : "") +
           (tokenOrder ? "-ord" : "") + (persistent ? "-p" : "");
  }
  std::string name() const {
    std::string n = kernel().substr(5) + "_S" + std::to_string(seq);
    if (text)
      n += "_text" + std::to_string(text) + (textFirst ? "first" : "last");
    n += groupsPerRow ? "_onegroup"
                      : "_density" + std::to_string(int(density * 100));
    n += structured ? "_video" : "_random";
    if (bshd)
      n += "_BSHD";
    // One field per part ("wgmma-ws" -> "wgmmaws"): scripts split on '_'.
    if (size_t at = n.find("wgmma-ws"); at != std::string::npos)
      n.replace(at, 8, "wgmmaws");
    for (char &c : n)
      if (c == '-' || c == '.')
        c = '_';
    return n;
  }
};

// gtest prints parameters in test listings: the case's name, not its bytes.
void PrintTo(const Case &c, std::ostream *os) { *os << c.name(); }

std::vector<Case> allCases() {
  std::vector<Case> cases;
  const int64_t seqs[] = {128, 1000, 4097};
  const std::pair<int64_t, bool> texts[] = {
      {0, false}, {226, true}, {256, false}};
  const double densities[] = {0, 0.1, 0.5, 1.0}; // 0: one group per row
  int rotate = 0;
  // The next sequence length, text layout, input kind and layout in the
  // rotation.
  auto rotateLayout = [&](Case &c) {
    c.seq = seqs[rotate % 3];
    auto [text, first] = texts[(rotate / 3) % 3];
    if (c.seq > text) {
      c.text = text;
      c.textFirst = first;
    }
    c.structured = rotate % 2 == 1;
    c.bshd = rotate % 4 == 2;
    ++rotate;
  };
  // The density (a case of density 0 keeps one group per row) and the
  // layout, both rotating.
  auto rotateDensityAndLayout = [&](Case &c) {
    c.density = densities[rotate % 4];
    c.groupsPerRow = c.density == 0 ? 1 : 0;
    rotateLayout(c);
  };
  // Every bf16 kernel for sm_90a at every density, sequences and text
  // layouts rotating across cases.
  for (int64_t d : {64, 128})
    for (int64_t bq : {64, 128})
      for (int64_t bk : {16, 32, 64, 128})
        for (int64_t bins : {0, 1, 4, 8})
          for (double density : densities) {
            Case c;
            c.d = d, c.bq = bq, c.bk = bk, c.bins = bins;
            c.density = density;
            c.groupsPerRow = density == 0 ? 1 : 0;
            rotateLayout(c);
            cases.push_back(c);
          }
  // fp16: every kernel once.
  for (int64_t d : {64, 128})
    for (int64_t bq : {64, 128})
      for (int64_t bk : {16, 32, 64, 128})
        for (int64_t bins : {0, 1, 4, 8}) {
          Case c;
          c.dtype = DType::FP16;
          c.d = d, c.bq = bq, c.bk = bk, c.bins = bins;
          c.seq = (bk + bins) % 2 ? 1000 : 4097;
          c.density = bins % 2 ? 0.1 : 0.5;
          c.text = bins == 4 ? 226 : 0;
          c.textFirst = true;
          c.structured = bk >= 64;
          cases.push_back(c);
        }
  // The wgmma template (sm_90a): every kernel in bf16 with the densities,
  // sequences and text layouts rotating, with its default key tile (128 at
  // head_dim 128, 64 at 64) and with 128, and every kernel once in fp16;
  // the warp-specialized one (wgmma-ws) in bf16 with its default tile.
  const std::pair<const char *, int64_t> hopperKernels[] = {
      {"wgmma", 0}, {"wgmma", 128}, {"wgmma-ws", 0}};
  for (auto [tmpl, keyTile] : hopperKernels)
    for (int64_t d : {64, 128})
      for (int64_t bq : {64, 128})
        for (int64_t bk : {16, 32, 64, 128})
          for (int64_t bins : {0, 1, 4, 8}) {
            Case c;
            c.tmpl = tmpl;
            c.keyTile = keyTile;
            c.d = d, c.bq = bq, c.bk = bk, c.bins = bins;
            rotateDensityAndLayout(c);
            cases.push_back(c);
            if (c.tmpl == "wgmma" && keyTile == 0) {
              Case f = c;
              f.dtype = DType::FP16;
              f.density = densities[(rotate + 1) % 4];
              f.groupsPerRow = f.density == 0 ? 1 : 0;
              cases.push_back(f);
            }
          }
  // The full sequence of wan2.1-480p, sampled rows.
  for (const char *tmpl : {"mma", "wgmma", "wgmma-ws"})
    for (int64_t d : {64, 128})
      for (int64_t bk : {16, 32, 128})
        for (double density : {0.1, 0.5}) {
          Case c;
          c.tmpl = tmpl;
          c.d = d, c.bk = bk, c.bins = bk == 32 ? 4 : 0;
          c.seq = 32760;
          c.density = density;
          c.structured = bk == 32;
          c.bshd = bk == 16;
          cases.push_back(c);
        }
  // The persistent grid (test/gpu/CMakeLists.txt:
  // sattn_gpu_kernel_persistent): every kernel with the densities,
  // sequences and layouts rotating (B = 2 and 2 heads: a CTA walks items of
  // both), the full wan2.1-480p sequence, and two through the token order.
  for (int64_t d : {64, 128})
    for (int64_t bq : {64, 128})
      for (int64_t bk : {16, 32, 128})
        for (int64_t bins : {0, 4}) {
          Case c;
          c.tmpl = "wgmma-ws";
          c.persistent = true;
          c.d = d, c.bq = bq, c.bk = bk, c.bins = bins;
          rotateDensityAndLayout(c);
          cases.push_back(c);
        }
  for (int64_t bk : {32, 128}) {
    Case c;
    c.tmpl = "wgmma-ws";
    c.persistent = true;
    c.bk = bk, c.bins = bk == 32 ? 4 : 0;
    c.seq = 32760;
    c.density = 0.1;
    c.structured = true;
    cases.push_back(c);
  }
  for (auto [d, bk, bins] : {std::tuple<int64_t, int64_t, int64_t>{128, 32, 4},
                             {64, 128, 0}}) {
    Case c;
    c.tmpl = "wgmma-ws";
    c.persistent = true;
    c.tokenOrder = true;
    c.d = d, c.bk = bk, c.bins = bins;
    c.density = 0.5;
    c.seq = 4097;
    c.text = 256;
    c.bshd = true;
    cases.push_back(c);
  }
  // sm_80 PTX, JIT-compiled for the GPU at hand.
  for (int64_t d : {64, 128})
    for (int64_t bk : {16, 32, 64, 128}) {
      Case c;
      c.arch = "sm_80";
      c.d = d, c.bq = d == 64 ? 64 : 128, c.bk = bk, c.bins = bk == 64 ? 8 : 0;
      c.seq = 4097;
      c.text = 256;
      cases.push_back(c);
    }
  // Through a token order (test/gpu/CMakeLists.txt: sattn_gpu_kernel_ordered).
  for (const char *tmpl : {"mma", "wgmma", "wgmma-ws"}) {
    for (int64_t d : {64, 128})
      for (int64_t bk : {16, 32, 128}) {
        Case c;
        c.tmpl = tmpl;
        c.tokenOrder = true;
        c.d = d, c.bk = bk, c.bins = bk == 32 ? 4 : 0;
        c.density = densities[rotate % 4];
        c.groupsPerRow = c.density == 0 ? 1 : 0;
        rotateLayout(c);
        cases.push_back(c);
      }
    Case lse;
    lse.tmpl = tmpl;
    lse.tokenOrder = true;
    lse.bk = 32, lse.bins = 4, lse.lse = true;
    lse.seq = 1000;
    lse.text = 226;
    lse.textFirst = true;
    lse.bshd = true;
    cases.push_back(lse);
  }
  {
    Case simt;
    simt.tmpl = "simt";
    simt.tokenOrder = true;
    simt.d = 64, simt.bq = 64, simt.bk = 32;
    simt.seq = 1000;
    simt.density = 0.5;
    cases.push_back(simt);
  }
  // The log-sum-exp output and the SIMT template.
  for (int64_t d : {64, 128})
    for (int64_t bk : {32, 128})
      for (int64_t bins : {0, 4}) {
        Case lse;
        lse.d = d, lse.bk = bk, lse.bins = bins, lse.lse = true;
        lse.seq = 1000;
        lse.text = 226;
        lse.textFirst = true;
        cases.push_back(lse);
        lse.tmpl = "wgmma";
        cases.push_back(lse);
        lse.tmpl = "wgmma-ws";
        cases.push_back(lse);
        Case simt;
        simt.tmpl = "simt";
        simt.d = d, simt.bq = 64, simt.bk = bk, simt.bins = bins;
        simt.seq = 1000;
        simt.density = 0.5;
        cases.push_back(simt);
      }
  return cases;
}

/// The GPU and the loaded kernels, shared by all cases. Kernels are loaded
/// and launched through the C API, as an engine would; device buffers come
/// from the C++ runtime on the same (primary) CUDA context.
struct Gpu {
  std::unique_ptr<Context> context;
  sattn_context *api = nullptr;
  std::string unavailable; // why there is no GPU
  std::map<std::string, sattn_kernels *> kernels;
  uint64_t seed = 0;

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
    const char *fixed = std::getenv("SATTN_TEST_SEED");
    seed =
        fixed
            ? std::strtoull(fixed, nullptr, 10)
            : uint64_t(
                  std::chrono::steady_clock::now().time_since_epoch().count());
  }
  static std::string folder() {
    const char *dir = std::getenv("SATTN_GPU_KERNELS");
    return dir ? dir : SATTN_GPU_KERNEL_DIR;
  }
  sattn_kernels *load(const std::string &name) {
    auto it = kernels.find(name);
    if (it != kernels.end())
      return it->second;
    sattn_kernels *loaded = nullptr;
    std::string path = folder() + "/" + name + ".manifest.json";
    if (sattn_kernels_load(api, path.c_str(), &loaded) != SATTN_OK)
      throw std::runtime_error(sattn_last_error());
    return kernels[name] = loaded;
  }
};

ref::Tensor randomInputs(int64_t s, int64_t d, std::mt19937_64 &rng) {
  ref::Tensor t({kBatch, kHeads, s, d});
  std::normal_distribution<double> normal(0.0, 1.0);
  for (double &x : t.data)
    x = normal(rng);
  return t;
}

/// Rounds to the kernel's 16-bit type, so that reference and GPU see the
/// same inputs.
void roundTo(ref::Tensor &t, DType dtype) {
  for (double &x : t.data)
    x = dtype == DType::BF16 ? fromBf16(toBf16(float(x)))
                             : fromFp16(toFp16(float(x)));
}

/// A [B, H, S, D] tensor in the 16-bit encoding, laid out [B, H, S, D] or
/// [B, S, H, D]; the strides (in elements) of b, h, s, d.
std::vector<uint16_t> encode(const ref::Tensor &t, DType dtype, bool bshd,
                             int64_t strides[4]) {
  int64_t b = t.dim(0), h = t.dim(1), s = t.dim(2), d = t.dim(3);
  int64_t layout[4] = {h * s * d, s * d, d, 1};
  if (bshd) {
    layout[0] = s * h * d;
    layout[1] = d;
    layout[2] = h * d;
  }
  std::copy(layout, layout + 4, strides);
  std::vector<uint16_t> out(t.data.size());
  for (int64_t ib = 0; ib < b; ++ib)
    for (int64_t ih = 0; ih < h; ++ih)
      for (int64_t is = 0; is < s; ++is)
        for (int64_t id = 0; id < d; ++id) {
          float x = float(t(ib, ih, is, id));
          out[size_t(ib * layout[0] + ih * layout[1] + is * layout[2] + id)] =
              dtype == DType::BF16 ? toBf16(x) : toFp16(x);
        }
  return out;
}

class SparseAttentionGpu : public ::testing::TestWithParam<Case> {};

TEST_P(SparseAttentionGpu, MatchesFloat64Reference) {
  const Case &c = GetParam();
  Gpu &gpu = Gpu::get();
  if (!gpu.context)
    GTEST_SKIP() << "SKIP: no GPU: " << gpu.unavailable;
  if (c.arch == "sm_90a" && gpu.context->arch() != "sm_90a")
    GTEST_SKIP() << "SKIP: sm_90a kernels need an sm_90 GPU, not "
                 << gpu.context->device().name;
  sattn_kernels *kernels = gpu.load(c.kernel());
  VariantResult variant =
      readVariantFile(Gpu::folder() + "/" + c.kernel() + ".json");
  ASSERT_TRUE(variant) << variant.issue.str();
  double scale = variant.variant->problem.softmaxScale();
  uint64_t seed = gpu.seed + std::hash<std::string>()(c.name());
  SCOPED_TRACE("seed " + std::to_string(gpu.seed) +
               " (SATTN_TEST_SEED to repeat)");
  std::mt19937_64 rng(seed);

  // Inputs.
  int64_t s = c.seq, d = c.d;
  ref::Tensor q, k, v;
  if (c.structured) {
    // One frame of the most square grid with S - text tokens.
    ProblemParams problem;
    problem.batch = kBatch;
    problem.heads = kHeads;
    problem.headDim = d;
    int64_t video = s - c.text, rows = 1;
    for (int64_t r = 1; r * r <= video; ++r)
      if (video % r == 0)
        rows = r;
    problem.grid = {1, rows, video / rows};
    problem.textTokens = c.text;
    problem.textPosition =
        c.textFirst ? TextPosition::First : TextPosition::Last;
    ref::SyntheticSpec spec = ref::specFor(problem);
    spec.seed = seed;
    ref::SyntheticInputs inputs = ref::makeSynthetic(spec);
    q = std::move(inputs.q);
    k = std::move(inputs.k);
    v = std::move(inputs.v);
  } else {
    q = randomInputs(s, d, rng);
    k = randomInputs(s, d, rng);
    v = randomInputs(s, d, rng);
  }
  for (ref::Tensor *t : {&q, &k, &v})
    roundTo(*t, c.dtype);

  // The mask, for both sides.
  MaskSpec spec;
  spec.batch = kBatch;
  spec.heads = kHeads;
  spec.seqLen = s;
  spec.blockQ = c.bq;
  spec.groupSize = c.bk;
  spec.density = c.density;
  spec.groupsPerRow = c.groupsPerRow;
  spec.textTokens = c.text;
  spec.textFirst = c.textFirst;
  spec.bins = c.bins;
  spec.headDim = d;
  spec.seed = seed + 1;
  RandomMask mask = makeRandomMask(spec);

  // GPU.
  const Context &context = *gpu.context;
  auto upload = [&](const auto &host, DeviceBuffer &buffer) {
    ASSERT_TRUE(
        DeviceBuffer::allocate(context, host.size() * sizeof(host[0]), buffer)
            .isOk());
    ASSERT_TRUE(buffer.upload(host).isOk());
  };
  sattn_dtype dtype = c.dtype == DType::BF16 ? SATTN_BF16 : SATTN_FP16;
  sattn_tensor tensors[4];
  DeviceBuffer buffers[4];
  // Through a token order, position t (what the mask and the reference
  // see) is row order[t] of the tensors.
  std::vector<int32_t> order(static_cast<size_t>(s));
  for (int64_t t = 0; t < s; ++t)
    order[size_t(t)] = int32_t(t);
  if (c.tokenOrder)
    std::shuffle(order.begin(), order.end(), rng);
  auto rowOf = [&](int64_t t) { return int64_t(order[size_t(t)]); };
  const ref::Tensor *hosts[3] = {&q, &k, &v};
  ref::Tensor stored[3];
  for (int i = 0; c.tokenOrder && i < 3; ++i) {
    stored[i] = ref::Tensor(hosts[i]->shape);
    for (int64_t ib = 0; ib < kBatch; ++ib)
      for (int64_t ih = 0; ih < kHeads; ++ih)
        for (int64_t t = 0; t < s; ++t)
          std::copy(hosts[i]->row(ib, ih, t), hosts[i]->row(ib, ih, t) + d,
                    stored[i].row(ib, ih, rowOf(t)));
    hosts[i] = &stored[i];
  }
  for (int i = 0; i < 4; ++i) {
    sattn_tensor &t = tensors[i];
    t.dtype = dtype;
    int64_t shape[4] = {kBatch, kHeads, s, d};
    std::copy(shape, shape + 4, t.shape);
    std::vector<uint16_t> encoded =
        encode(i < 3 ? *hosts[i] : q, c.dtype, c.bshd, t.strides);
    upload(encoded, buffers[i]);
    t.data = buffers[i].data();
  }
  ASSERT_TRUE(buffers[3].fill(0xff).isOk()); // poison: NaN in bf16 and fp16
  DeviceBuffer groups, counts, tailKeys, tailValues, tailLogCounts, lse,
      orderBuffer;
  upload(mask.groups, groups);
  upload(mask.counts, counts);
  sattn_block_mask blockMask{static_cast<const int32_t *>(groups.data()),
                             static_cast<const int32_t *>(counts.data()),
                             mask.capacity,
                             nullptr,
                             nullptr,
                             nullptr,
                             nullptr};
  if (c.tokenOrder) {
    upload(order, orderBuffer);
    blockMask.token_order = static_cast<const int32_t *>(orderBuffer.data());
  }
  if (c.bins > 0) {
    upload(mask.tailKeys, tailKeys);
    upload(mask.tailValues, tailValues);
    upload(mask.tailLogCounts, tailLogCounts);
    blockMask.tail_keys = static_cast<const float *>(tailKeys.data());
    blockMask.tail_values = static_cast<const float *>(tailValues.data());
    blockMask.tail_log_counts =
        static_cast<const float *>(tailLogCounts.data());
  }
  if (c.lse) {
    ASSERT_TRUE(
        DeviceBuffer::allocate(context, size_t(kBatch * kHeads * s) * 4, lse)
            .isOk());
    ASSERT_TRUE(lse.fill(0xff).isOk());
  }
  ASSERT_EQ(sattn_sparse_attention(
                kernels, &tensors[0], &tensors[1], &tensors[2], &tensors[3],
                &blockMask, c.lse ? static_cast<float *>(lse.data()) : nullptr,
                nullptr),
            SATTN_OK)
      << sattn_last_error();
  ASSERT_TRUE(checkCuda(context.cuda(), "cuCtxSynchronize",
                        context.cuda().ctxSynchronize())
                  .isOk());
  std::vector<uint16_t> outBits(size_t(kBatch * kHeads * s * d));
  ASSERT_TRUE(buffers[3].download(outBits).isOk());
  auto decode = [&](int64_t ib, int64_t ih, int64_t is, int64_t id) {
    const int64_t *st = tensors[3].strides;
    uint16_t bits = outBits[size_t(ib * st[0] + ih * st[1] + is * st[2] + id)];
    return c.dtype == DType::BF16 ? fromBf16(bits) : fromFp16(bits);
  };
  int64_t unwritten = 0;
  for (int64_t ib = 0; ib < kBatch; ++ib)
    for (int64_t ih = 0; ih < kHeads; ++ih)
      for (int64_t is = 0; is < s; ++is)
        for (int64_t id = 0; id < d; ++id)
          unwritten += !std::isfinite(decode(ib, ih, is, id));
  EXPECT_EQ(unwritten, 0) << "output elements not written or not finite";

  // The reference on all query blocks, or on a sample of them for long
  // sequences (the last block, partial, always among them).
  std::vector<int64_t> blocks;
  int64_t nq = mask.numQueryBlocks;
  if (s <= 4097) {
    for (int64_t i = 0; i < nq; ++i)
      blocks.push_back(i);
  } else {
    std::uniform_int_distribution<int64_t> pick(0, nq - 2);
    for (int i = 0; i < 6; ++i)
      blocks.push_back(pick(rng));
    std::sort(blocks.begin(), blocks.end());
    blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
    blocks.push_back(nq - 1);
  }
  int64_t tokens = 0;
  for (int64_t i : blocks)
    tokens += std::min(s, (i + 1) * c.bq) - i * c.bq;
  ref::Tensor qs({kBatch, kHeads, tokens, d});
  ref::BlockLists lists;
  lists.batch = kBatch;
  lists.heads = kHeads;
  lists.numQueryBlocks = int64_t(blocks.size());
  lists.numGroups = mask.numGroups;
  lists.blockQ = c.bq;
  lists.groupSize = c.bk;
  lists.seqLen = s;
  ref::TailBins tail;
  tail.bins = c.bins;
  int64_t m = int64_t(blocks.size());
  if (c.bins) {
    tail.keys = ref::Tensor({kBatch, kHeads, m, c.bins, d});
    tail.values = ref::Tensor({kBatch, kHeads, m, c.bins, d});
    tail.logCounts = ref::Tensor({kBatch, kHeads, m, c.bins});
  }
  for (int64_t ib = 0; ib < kBatch; ++ib)
    for (int64_t ih = 0; ih < kHeads; ++ih)
      for (int64_t j = 0; j < m; ++j) {
        int64_t i = blocks[size_t(j)];
        int64_t row = (ib * kHeads + ih) * nq + i;
        for (int64_t t = i * c.bq; t < std::min(s, (i + 1) * c.bq); ++t)
          std::copy(q.row(ib, ih, t), q.row(ib, ih, t) + d,
                    qs.row(ib, ih, j * c.bq + (t - i * c.bq)));
        auto first = mask.groups.begin() + row * mask.capacity;
        lists.rows.emplace_back(first, first + mask.counts[size_t(row)]);
        int64_t newRow = (ib * kHeads + ih) * m + j;
        for (int64_t bin = 0; bin < c.bins; ++bin) {
          size_t from = size_t(row * c.bins + bin),
                 to = size_t(newRow * c.bins + bin);
          tail.logCounts.data[to] = mask.tailLogCounts[from];
          for (int64_t e = 0; e < d; ++e) {
            tail.keys.data[to * d + e] = mask.tailKeys[from * d + e];
            tail.values.data[to * d + e] = mask.tailValues[from * d + e];
          }
        }
      }
  ref::Tensor refLse;
  ref::Tensor expected = ref::sparseAttention(
      qs, k, v, lists, c.bins ? &tail : nullptr, scale, &refLse);

  double err = 0, norm = 0, lseErr = 0;
  std::vector<float> lseHost;
  if (c.lse) {
    lseHost.resize(size_t(kBatch * kHeads * s));
    ASSERT_TRUE(lse.download(lseHost).isOk());
  }
  for (int64_t ib = 0; ib < kBatch; ++ib)
    for (int64_t ih = 0; ih < kHeads; ++ih)
      for (int64_t j = 0; j < m; ++j) {
        int64_t i = blocks[size_t(j)];
        for (int64_t t = i * c.bq; t < std::min(s, (i + 1) * c.bq); ++t) {
          int64_t local = j * c.bq + (t - i * c.bq);
          for (int64_t e = 0; e < d; ++e) {
            double want = expected(ib, ih, local, e);
            double got = decode(ib, ih, rowOf(t), e);
            err += (got - want) * (got - want);
            norm += want * want;
          }
          if (c.lse)
            lseErr = std::max(
                lseErr,
                std::abs(double(lseHost[size_t((ib * kHeads + ih) * s +
                                               rowOf(t))]) -
                         refLse(ib, ih, local)));
        }
      }
  double relL2 = std::sqrt(err / std::max(norm, 1e-300));
  EXPECT_LE(relL2, 1e-2) << "relative L2 error against float64";
  RecordProperty("rel_l2", std::to_string(relL2));
  if (c.lse) {
    EXPECT_LE(lseErr, 2e-2) << "log-sum-exp error";
  }
}

/// A buffer smaller than its shape says is refused before the launch, for
/// each of the tensors and the mask's arrays: the kernel would read or
/// write past its end.
TEST(SparseAttentionGpuErrors, UndersizedBuffersAreRefused) {
  Gpu &gpu = Gpu::get();
  if (!gpu.context)
    GTEST_SKIP() << "SKIP: no GPU: " << gpu.unavailable;
  Case c;
  c.arch = "sm_80";
  c.bins = 4;
  sattn_kernels *kernels = gpu.load(c.kernel());
  const Context &context = *gpu.context;
  int64_t b = 1, h = 8, s = 4000, d = c.d;
  int64_t nq = (s + c.bq - 1) / c.bq, groups = (s + c.bk - 1) / c.bk;
  int64_t tensorBytes = b * h * s * d * 2;
  // Every buffer right-sized, then each one in turn half as large (the
  // driver reports the size asked for; half leaves room for rounding).
  std::vector<int64_t> bytes = {tensorBytes,
                                tensorBytes,
                                tensorBytes,
                                tensorBytes,
                                b * h * nq * groups * 4,
                                b * h * nq * 4,
                                b * h * nq * c.bins * d * 4,
                                b * h * nq * c.bins * d * 4,
                                b * h * nq * c.bins * 4};
  const char *names[] = {
      "q.data",         "k.data",           "v.data",
      "out.data",       "mask.groups",      "mask.counts",
      "mask.tail_keys", "mask.tail_values", "mask.tail_log_counts"};
  for (size_t shortOne = 0; shortOne <= bytes.size(); ++shortOne) {
    std::vector<DeviceBuffer> buffers(bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i) {
      size_t size = size_t(bytes[i]) / (i == shortOne ? 2 : 1);
      ASSERT_TRUE(DeviceBuffer::allocate(context, size, buffers[i]).isOk());
      ASSERT_TRUE(buffers[i].fill(0).isOk());
    }
    sattn_tensor t[4];
    for (int i = 0; i < 4; ++i)
      t[i] = sattn_tensor{buffers[size_t(i)].data(),
                          {b, h, s, d},
                          {h * s * d, s * d, d, 1},
                          SATTN_BF16};
    sattn_block_mask mask{static_cast<const int32_t *>(buffers[4].data()),
                          static_cast<const int32_t *>(buffers[5].data()),
                          groups,
                          static_cast<const float *>(buffers[6].data()),
                          static_cast<const float *>(buffers[7].data()),
                          static_cast<const float *>(buffers[8].data())};
    sattn_status status = sattn_sparse_attention(
        kernels, &t[0], &t[1], &t[2], &t[3], &mask, nullptr, nullptr);
    if (shortOne == bytes.size()) {
      EXPECT_EQ(status, SATTN_OK) << sattn_last_error();
      continue;
    }
    EXPECT_EQ(status, SATTN_ERROR_INVALID_ARGUMENT) << names[shortOne];
    std::string message = sattn_last_error();
    EXPECT_EQ(message.rfind(names[shortOne], 0), 0u) << message;
    EXPECT_NE(message.find("but its allocation ends after"), std::string::npos)
        << message;
  }
  ASSERT_TRUE(checkCuda(context.cuda(), "cuCtxSynchronize",
                        context.cuda().ctxSynchronize())
                  .isOk());
}

/// A token-order kernel without its table, and a table for a kernel that
/// takes no token order, are refused before the launch with the field named.
TEST(SparseAttentionGpuErrors, TheTokenOrderMatchesTheKernels) {
  Gpu &gpu = Gpu::get();
  if (!gpu.context)
    GTEST_SKIP() << "SKIP: no GPU: " << gpu.unavailable;
  if (gpu.context->arch() != "sm_90a")
    GTEST_SKIP() << "SKIP: the kernels are sm_90a";
  Case ordered;
  ordered.tmpl = "wgmma";
  ordered.bk = 32, ordered.bins = 4, ordered.tokenOrder = true;
  Case plain = ordered;
  plain.tokenOrder = false;
  const Context &context = *gpu.context;
  int64_t b = 1, h = 2, s = 1000, d = ordered.d;
  int64_t nq = (s + ordered.bq - 1) / ordered.bq,
          groups = (s + ordered.bk - 1) / ordered.bk;
  std::vector<int64_t> bytes = {b * h * s * d * 2, b * h * nq * groups * 4,
                                b * h * nq * 4, b * h * nq * 4 * d * 4,
                                b * h * nq * 4 * 4, s * 4};
  std::vector<DeviceBuffer> buffers(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    ASSERT_TRUE(
        DeviceBuffer::allocate(context, size_t(bytes[i]), buffers[i]).isOk());
    ASSERT_TRUE(buffers[i].fill(0).isOk());
  }
  sattn_tensor t[4];
  DeviceBuffer outs[4];
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(
        DeviceBuffer::allocate(context, size_t(bytes[0]), outs[i]).isOk());
    t[i] = sattn_tensor{outs[i].data(), {b, h, s, d}, {h * s * d, s * d, d, 1},
                        SATTN_BF16};
  }
  sattn_block_mask mask{static_cast<const int32_t *>(buffers[1].data()),
                        static_cast<const int32_t *>(buffers[2].data()),
                        groups,
                        static_cast<const float *>(buffers[3].data()),
                        static_cast<const float *>(buffers[3].data()),
                        static_cast<const float *>(buffers[4].data()),
                        nullptr};
  EXPECT_EQ(sattn_sparse_attention(gpu.load(ordered.kernel()), &t[0], &t[1],
                                   &t[2], &t[3], &mask, nullptr, nullptr),
            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(sattn_last_error()).find("mask.token_order"),
            std::string::npos)
      << sattn_last_error();
  mask.token_order = static_cast<const int32_t *>(buffers[5].data());
  EXPECT_EQ(sattn_sparse_attention(gpu.load(plain.kernel()), &t[0], &t[1],
                                   &t[2], &t[3], &mask, nullptr, nullptr),
            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(sattn_last_error()).find("mask.token_order is given"),
            std::string::npos)
      << sattn_last_error();
  EXPECT_EQ(sattn_sparse_attention(gpu.load(ordered.kernel()), &t[0], &t[1],
                                   &t[2], &t[3], &mask, nullptr, nullptr),
            SATTN_OK)
      << sattn_last_error();
  ASSERT_TRUE(checkCuda(context.cuda(), "cuCtxSynchronize",
                        context.cuda().ctxSynchronize())
                  .isOk());
}

INSTANTIATE_TEST_SUITE_P(Kernels, SparseAttentionGpu,
                         ::testing::ValuesIn(allCases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return info.param.name();
                         });

} // namespace
