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
#include "tools/common/CommandLine.h"
#include "tools/sattn-bench/AttentionWorkload.h"

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
  cli::fail("sattn-bench", message);
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
    "  --head-spread F  per-head densities, as adaptive selection gives them:\n"
    "                   head h of H keeps D * (1 - F + 2F h / (H - 1)), the\n"
    "                   mean D, the last head the most (default 0, < 1)\n"
    "  --runs N         timed runs, median reported (default 30, at least 20)\n"
    "  --warmup N       untimed runs first (default 5)\n"
    "  --inputs N       input sets rotated between runs (default 3)\n"
    "  --device N       GPU ordinal (default 0)\n"
    "  --seed N         random seed of inputs and mask (default 1)\n"
    "  --json OUT       also write the result as JSON\n";

struct Options {
  std::string variant, kernels, json;
  double density = -1, headSpread = 0;
  int runs = 30, warmup = 5, inputs = 3, device = 0;
  uint64_t seed = 1;
};

Options parse(int argc, char **argv) {
  Options o;
  static option longOptions[] = {{"kernels", required_argument, nullptr, 'k'},
                                 {"density", required_argument, nullptr, 'd'},
                                 {"head-spread", required_argument, nullptr, 'f'},
                                 {"runs", required_argument, nullptr, 'r'},
                                 {"warmup", required_argument, nullptr, 'w'},
                                 {"inputs", required_argument, nullptr, 'i'},
                                 {"device", required_argument, nullptr, 'g'},
                                 {"seed", required_argument, nullptr, 's'},
                                 {"json", required_argument, nullptr, 'j'},
                                 {"help", no_argument, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  auto number = [](const char *flag, const char *text, double lo, double hi) {
    return cli::number("sattn-bench", flag, text, lo, hi);
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
    case 'f':
      o.headSpread = number("head-spread", optarg, 0, 0.99);
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
    default:
      cli::usage(kUsage, c == 'h');
    }
  }
  o.variant = cli::onePositional("sattn-bench", argc, argv, optind);
  if (o.kernels.empty())
    fail("--kernels DIR is required: run `sattnc " + o.variant +
         " -o DIR` first");
  return o;
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
  WorkloadShape shape =
      shapeOf(variant, o.density > 0 ? o.density : variant.selection.density);
  shape.seed = o.seed;
  shape.headSpread = o.headSpread;
  shape.inputs = o.inputs;
  std::unique_ptr<AttentionWorkload> workload;
  check(AttentionWorkload::create(*module, variant, shape, workload));
  const RandomMask &mask = workload->mask();
  Timing timing;
  check(timeWorkload(*workload, o.warmup, o.runs, timing));
  const std::vector<double> &sorted = timing.ms;
  double median = timing.median();
  double tflops = workload->flops() / (median * 1e-3) / 1e12;

  const DeviceInfo &device = context->device();
  std::printf("sattn-bench: %s on %s (%s): B=%lld H=%lld S=%lld D=%lld, "
              "block %lldx%lld, bins %lld, density %.3f%s\n",
              variant.name.c_str(), device.name.c_str(),
              module->manifest().arch.c_str(), (long long)b, (long long)h,
              (long long)s, (long long)d, (long long)variant.block.q,
              (long long)variant.block.k, (long long)variant.tail.bins,
              mask.density,
              o.headSpread > 0
                  ? (" (head spread " + std::to_string(o.headSpread) + ")")
                        .c_str()
                  : "");
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
        {"head_spread", o.headSpread},
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
