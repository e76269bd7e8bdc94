//===- sattn-bench.cpp - Time a variant's attention kernel ----------------===//
//
//   sattn-bench VARIANT.json --kernels DIR [--density D] [--json OUT]
//
// Times the sparse attention kernel that sattnc compiled for VARIANT.json
// (DIR/NAME.manifest.json and its PTX) on a random block mask of the given
// density, with CUDA events: warm-up runs, then the median of --runs timed
// runs, rotating over several sets of random inputs. Reports milliseconds
// and effective TFLOP/s = 4 * head_dim * (kept query-key pairs) / time.
//
// Links only the runtime (no LLVM/MLIR), so that it runs on GPU machines
// that have neither; hence getopt instead of llvm::cl.
//
//===----------------------------------------------------------------------===//

#include "dialect/VariantJson.h"
#include "runtime/DeviceBuffer.h"
#include "runtime/HalfFloat.h"
#include "runtime/KernelModule.h"
#include "runtime/SparseAttention.h"
#include "tools/sattn-bench/RandomMask.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <getopt.h>
#include <random>
#include <sys/stat.h>

using namespace sattn;

namespace {

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "sattn-bench: error: %s\n", message.c_str());
  std::exit(1);
}

void check(const Status &status) {
  if (!status.isOk())
    fail(status.message());
}

const char *kUsage =
    "usage: sattn-bench VARIANT.json --kernels DIR [options]\n"
    "\n"
    "Times the sparse attention kernel that `sattnc VARIANT.json -o DIR`\n"
    "compiled, on a random block mask, with CUDA events.\n"
    "\n"
    "  --kernels DIR    where sattnc wrote NAME.ptx and NAME.manifest.json\n"
    "  --density D      kept share of key groups per row (default: the\n"
    "                   variant's selection.density); 1 = dense\n"
    "  --runs N         timed runs, median reported (default 30, at least 20)\n"
    "  --warmup N       untimed runs first (default 5)\n"
    "  --inputs N       input sets rotated between runs (default 3)\n"
    "  --device N       GPU ordinal (default 0)\n"
    "  --seed N         random seed of inputs and mask (default 1)\n"
    "  --json OUT       also write the result as JSON\n";

struct Options {
  std::string variant, kernels, json;
  double density = -1;
  int runs = 30, warmup = 5, inputs = 3, device = 0;
  uint64_t seed = 1;
};

Options parse(int argc, char **argv) {
  Options o;
  static option longOptions[] = {{"kernels", required_argument, nullptr, 'k'},
                                 {"density", required_argument, nullptr, 'd'},
                                 {"runs", required_argument, nullptr, 'r'},
                                 {"warmup", required_argument, nullptr, 'w'},
                                 {"inputs", required_argument, nullptr, 'i'},
                                 {"device", required_argument, nullptr, 'g'},
                                 {"seed", required_argument, nullptr, 's'},
                                 {"json", required_argument, nullptr, 'j'},
                                 {"help", no_argument, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  auto number = [](const char *flag, const char *text, double lo, double hi) {
    char *end = nullptr;
    double value = std::strtod(text, &end);
    if (!end || *end || !(value >= lo && value <= hi))
      fail(std::string("--") + flag + ": \"" + text +
           "\" is not a number in [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]");
    return value;
  };
  int c;
  while ((c = getopt_long(argc, argv, "h", longOptions, nullptr)) != -1) {
    switch (c) {
    case 'k':
      o.kernels = optarg;
      break;
    case 'd':
      o.density = number("density", optarg, 1e-9, 1);
      break;
    case 'r':
      o.runs = int(number("runs", optarg, 20, 100000));
      break;
    case 'w':
      o.warmup = int(number("warmup", optarg, 0, 100000));
      break;
    case 'i':
      o.inputs = int(number("inputs", optarg, 1, 64));
      break;
    case 'g':
      o.device = int(number("device", optarg, 0, 1024));
      break;
    case 's':
      o.seed = uint64_t(number("seed", optarg, 0, 1e15));
      break;
    case 'j':
      o.json = optarg;
      break;
    case 'h':
      std::fputs(kUsage, stdout);
      std::exit(0);
    default:
      std::fputs(kUsage, stderr);
      std::exit(1);
    }
  }
  if (optind + 1 != argc)
    fail("expected one VARIANT.json (see --help)");
  o.variant = argv[optind];
  if (o.kernels.empty())
    fail("--kernels DIR is required: run `sattnc " + o.variant +
         " -o DIR` first");
  return o;
}

/// `count` values in [-2, 2), encoded as the kernels' 16-bit dtype: a pool
/// of a million random values read from a random offset with a random odd
/// stride, so that every input set differs without drawing hundreds of
/// millions of numbers.
std::vector<uint16_t> randomHalves(size_t count, DType dtype,
                                   std::mt19937_64 &rng) {
  static std::vector<uint16_t> pool;
  constexpr size_t kPool = 1 << 20;
  if (pool.empty()) {
    std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
    pool.resize(kPool);
    for (uint16_t &x : pool)
      x = dtype == DType::BF16 ? toBf16(uniform(rng)) : toFp16(uniform(rng));
  }
  size_t offset = rng() % kPool, stride = 2 * (rng() % 1000) + 1;
  std::vector<uint16_t> out(count);
  for (size_t i = 0; i < count; ++i)
    out[i] = pool[(offset + i * stride) % kPool];
  return out;
}

std::string today() {
  char text[32];
  std::time_t now = std::time(nullptr);
  std::strftime(text, sizeof text, "%Y-%m-%d", std::gmtime(&now));
  return text;
}

} // namespace

int main(int argc, char **argv) {
  Options o = parse(argc, argv);
  VariantResult read = readVariantFile(o.variant);
  if (!read)
    fail(o.variant + ": " + read.issue.str());
  const VariantParams &variant = *read.variant;
  const ProblemParams &problem = variant.problem;

  std::unique_ptr<Context> context;
  check(Context::create(o.device, context));
  std::unique_ptr<KernelModule> module;
  std::string manifestPath = o.kernels + "/" + variant.name + ".manifest.json";
  check(KernelModule::load(*context, manifestPath, module));
  if (module->manifest().variant != variant)
    fail(manifestPath + " was compiled from another version of " + o.variant +
         "; run sattnc again");
  const KernelModule::Kernel *kernel = module->find("sparse_attention");
  if (!kernel)
    fail(manifestPath + " has no sparse_attention kernel");

  int64_t b = problem.batch, h = problem.heads, s = problem.seqLen();
  int64_t d = problem.headDim;
  MaskSpec spec;
  spec.batch = b;
  spec.heads = h;
  spec.seqLen = s;
  spec.blockQ = variant.block.q;
  spec.groupSize = variant.block.k;
  spec.density = o.density > 0 ? o.density : variant.selection.density;
  spec.textTokens = problem.textTokens;
  spec.textFirst = problem.textPosition == TextPosition::First;
  spec.bins = variant.tail.bins;
  spec.headDim = d;
  spec.seed = o.seed;
  RandomMask mask = makeRandomMask(spec);

  // Inputs: several random sets, so that consecutive runs do not find their
  // operands in L2.
  size_t elements = size_t(b * h * s * d);
  std::mt19937_64 rng(o.seed);
  std::vector<DeviceBuffer> q(o.inputs), k(o.inputs), v(o.inputs);
  for (int i = 0; i < o.inputs; ++i)
    for (DeviceBuffer *buffer : {&q[i], &k[i], &v[i]}) {
      check(DeviceBuffer::allocate(*context, elements * 2, *buffer));
      check(buffer->upload(randomHalves(elements, problem.dtype, rng)));
    }
  DeviceBuffer out, groups, counts, tailKeys, tailValues, tailLogCounts, lse;
  check(DeviceBuffer::allocate(*context, elements * 2, out));
  check(DeviceBuffer::allocate(*context, mask.groups.size() * 4, groups));
  check(groups.upload(mask.groups));
  check(DeviceBuffer::allocate(*context, mask.counts.size() * 4, counts));
  check(counts.upload(mask.counts));
  sattn_block_mask blockMask{static_cast<const int32_t *>(groups.data()),
                             static_cast<const int32_t *>(counts.data()),
                             mask.capacity,
                             nullptr,
                             nullptr,
                             nullptr};
  if (spec.bins > 0) {
    check(DeviceBuffer::allocate(*context, mask.tailKeys.size() * 4, tailKeys));
    check(tailKeys.upload(mask.tailKeys));
    check(DeviceBuffer::allocate(*context, mask.tailValues.size() * 4,
                                 tailValues));
    check(tailValues.upload(mask.tailValues));
    check(DeviceBuffer::allocate(*context, mask.tailLogCounts.size() * 4,
                                 tailLogCounts));
    check(tailLogCounts.upload(mask.tailLogCounts));
    blockMask.tail_keys = static_cast<const float *>(tailKeys.data());
    blockMask.tail_values = static_cast<const float *>(tailValues.data());
    blockMask.tail_log_counts =
        static_cast<const float *>(tailLogCounts.data());
  }
  bool wantsLse = false;
  for (const ManifestParam &param : kernel->info->params)
    wantsLse |= param.name == "lse";
  if (wantsLse)
    check(DeviceBuffer::allocate(*context, size_t(b * h * s) * 4, lse));

  sattn_dtype dtype = problem.dtype == DType::BF16 ? SATTN_BF16 : SATTN_FP16;
  auto tensor = [&](const DeviceBuffer &buffer) {
    sattn_tensor t{
        buffer.data(), {b, h, s, d}, {h * s * d, s * d, d, 1}, dtype};
    return t;
  };
  const CudaDriver &cuda = context->cuda();
  cu::Stream stream = nullptr;
  check(checkCuda(cuda, "cuStreamCreate", cuda.streamCreate(&stream, 1)));
  auto runOnce = [&](int i) {
    sattn_tensor tq = tensor(q[i % o.inputs]), tk = tensor(k[i % o.inputs]),
                 tv = tensor(v[i % o.inputs]), to = tensor(out);
    check(runSparseAttention(
        *module, tq, tk, tv, to, blockMask,
        wantsLse ? static_cast<float *>(lse.data()) : nullptr, stream));
  };
  for (int i = 0; i < o.warmup; ++i)
    runOnce(i);
  check(checkCuda(cuda, "cuStreamSynchronize", cuda.streamSynchronize(stream)));

  std::vector<cu::Event> starts(o.runs), ends(o.runs);
  for (int i = 0; i < o.runs; ++i) {
    check(checkCuda(cuda, "cuEventCreate", cuda.eventCreate(&starts[i], 0)));
    check(checkCuda(cuda, "cuEventCreate", cuda.eventCreate(&ends[i], 0)));
  }
  for (int i = 0; i < o.runs; ++i) {
    check(
        checkCuda(cuda, "cuEventRecord", cuda.eventRecord(starts[i], stream)));
    runOnce(i);
    check(checkCuda(cuda, "cuEventRecord", cuda.eventRecord(ends[i], stream)));
  }
  check(checkCuda(cuda, "cuStreamSynchronize", cuda.streamSynchronize(stream)));
  std::vector<double> ms(o.runs);
  for (int i = 0; i < o.runs; ++i) {
    float elapsed = 0;
    check(checkCuda(cuda, "cuEventElapsedTime",
                    cuda.eventElapsedTime(&elapsed, starts[i], ends[i])));
    ms[i] = elapsed;
    cuda.eventDestroy(starts[i]);
    cuda.eventDestroy(ends[i]);
  }
  cuda.streamDestroy(stream);
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  double median = sorted[sorted.size() / 2];
  double tflops = 4.0 * double(d) * mask.keptPairs / (median * 1e-3) / 1e12;

  const DeviceInfo &device = context->device();
  std::printf("sattn-bench: %s on %s (%s): B=%lld H=%lld S=%lld D=%lld, "
              "block %lldx%lld, bins %lld, density %.3f\n",
              variant.name.c_str(), device.name.c_str(),
              module->manifest().arch.c_str(), (long long)b, (long long)h,
              (long long)s, (long long)d, (long long)variant.block.q,
              (long long)variant.block.k, (long long)variant.tail.bins,
              mask.density);
  std::printf("sattn-bench: %.3f ms median of %d (min %.3f, max %.3f), "
              "%.1f effective TFLOP/s; kernel %s: %d registers, %lld bytes "
              "shared\n",
              median, o.runs, sorted.front(), sorted.back(), tflops,
              kernel->info->name.c_str(), kernel->registers,
              (long long)kernel->info->dynamicSharedMemory);

  if (!o.json.empty()) {
    std::string command;
    for (int i = 0; i < argc; ++i)
      command += (i ? " " : "") + std::string(argv[i]);
    nlohmann::ordered_json result = {
        {"device", device.name},
        {"driver", device.driverVersion},
        {"date", today()},
        {"command", command},
        {"variant", variant.name},
        {"arch", module->manifest().arch},
        {"shape", {b, h, s, d}},
        {"block_q", variant.block.q},
        {"key_group", variant.block.k},
        {"bins", variant.tail.bins},
        {"density", mask.density},
        {"ms", median},
        {"ms_min", sorted.front()},
        {"ms_max", sorted.back()},
        {"runs", o.runs},
        {"tflops_effective", tflops},
        {"kernel",
         {{"name", kernel->info->name},
          {"registers", kernel->registers},
          {"dynamic_shared_memory", kernel->info->dynamicSharedMemory}}}};
    std::string temp = o.json + ".tmp";
    {
      std::ofstream file(temp);
      file << result.dump(2) << "\n";
      if (!file)
        fail(o.json + ": cannot write");
    }
    if (std::rename(temp.c_str(), o.json.c_str()) != 0)
      fail(o.json + ": cannot write");
  }
  return 0;
}
