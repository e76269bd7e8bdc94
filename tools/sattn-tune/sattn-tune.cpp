//===- sattn-tune.cpp - Autotune a variant's kernels on this GPU ----------===//
//
//   sattn-tune VARIANT.json [--densities 0.1,0.5] [--shapes 1x40x32760]
//              [--budget 10m] [--db FILE] [--resume]
//
// For each shape and density: candidates of the attention template's tile
// parameters (TuningParams) are compiled in process (through the kernel
// cache), pruned when the compiler rejects them or they need more shared
// memory than the GPU has, then each is measured by a child process (this
// program with --worker): loaded (the driver's register and thread limits
// prune again), checked against the float64 reference on a small input
// (a wrong candidate is recorded as failed, never chosen), and timed with
// CUDA events, median of --runs after warm-up. A candidate that faults or
// hangs costs its child, which is killed at --timeout; it is recorded as
// failed and the sweep goes on. Every result is merged into the tuning DB
// as soon as it is known, so Ctrl-C or a crash loses nothing measured, and
// --resume skips what the DB already holds.
//
// Search: the defaults first (the reference time), then a pruned grid
// (template x key tile x rows per warp at 2 stages; wgmma-ws and wgmma, on
// sm_90a, have one row count), then a local search from the best (one knob
// one step at a time, the template included) until no neighbour is faster
// or the budget is spent.
//
//===----------------------------------------------------------------------===//

#include "compiler/Version.h"
#include "dialect/VariantJson.h"
#include "runtime/CudaDriver.h"
#include "runtime/Files.h"
#include "runtime/Jit.h"
#include "runtime/TuningDb.h"
#include "tools/common/CommandLine.h"
#include "tools/sattn-bench/AttentionWorkload.h"
#include "tools/sattn-tune/AttentionCheck.h"
#include "tools/sattn-tune/Isolated.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <getopt.h>
#include <map>
#include <sstream>
#include <unistd.h>

using namespace sattn;

namespace {

[[noreturn]] void fail(const std::string &message, int code = 1) {
  cli::fail("sattn-tune", message, code);
}

const char *kUsage =
    "usage: sattn-tune VARIANT.json [options]\n"
    "\n"
    "Sweeps the tile parameters of the variant's attention kernel on this\n"
    "GPU and records every measurement in the tuning database, which the\n"
    "runtime (sattn_plan_create, sattn_kernels_compile) reads.\n"
    "\n"
    "  --densities LIST   selection densities to tune for, comma-separated\n"
    "                     (default: the variant's selection.density)\n"
    "  --shapes LIST      problem sizes BxHxS, comma-separated (default:\n"
    "                     the variant's own)\n"
    "  --budget TIME      start no candidate after TIME: 90s, 10m, 1h\n"
    "                     (default 10m for the whole sweep)\n"
    "  --db FILE          the tuning database (default: $SATTN_TUNING_DB,\n"
    "                     else tuning.json in the kernel cache folder)\n"
    "  --resume           keep what the database already holds for this\n"
    "                     GPU, driver and compiler; measure only the rest\n"
    "  --timeout SECONDS  per candidate, then it is killed (default 120)\n"
    "  --runs N           timed runs per candidate, median kept (default 20)\n"
    "  --device N         GPU ordinal (default 0)\n"
    "  --json OUT         also write the sweep's summary (best vs default)\n"
    "  --quiet            no progress lines\n"
    "\n"
    "Test knobs (sattn's own tests): --inject-fault N and --inject-hang N\n"
    "make the N-th measured candidate fault on the GPU or hang.\n";

struct Options {
  std::string variant, db, json;
  std::vector<double> densities;
  std::vector<std::array<int64_t, 3>> shapes;
  double budgetSeconds = 600, timeoutSeconds = 120;
  int runs = 20, device = 0, injectFault = 0, injectHang = 0;
  bool resume = false, quiet = false;
  // --worker
  bool worker = false, fault = false, hang = false;
  std::string manifest;
  uint64_t seed = 1;
};

double parseNumber(const std::string &flag, const std::string &text, double lo,
                   double hi) {
  return cli::number("sattn-tune", flag, text, lo, hi);
}

std::vector<std::string> split(const std::string &text, char by) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, by))
    parts.push_back(part);
  return parts;
}

double parseDuration(const std::string &text) {
  if (text.empty())
    fail("--budget: empty");
  double scale = 1;
  std::string number = text;
  switch (text.back()) {
  case 's':
    number.pop_back();
    break;
  case 'm':
    scale = 60;
    number.pop_back();
    break;
  case 'h':
    scale = 3600;
    number.pop_back();
    break;
  }
  return parseNumber("budget", number, 1, 1e7) * scale;
}

Options parse(int argc, char **argv) {
  Options o;
  enum {
    kDensities = 256,
    kShapes,
    kBudget,
    kDb,
    kResume,
    kTimeout,
    kRuns,
    kDevice,
    kJson,
    kQuiet,
    kInjectFault,
    kInjectHang,
    kWorker,
    kManifest,
    kFault,
    kHang,
    kSeed,
    kCandidate
  };
  static option longOptions[] = {
      {"densities", required_argument, nullptr, kDensities},
      {"shapes", required_argument, nullptr, kShapes},
      {"budget", required_argument, nullptr, kBudget},
      {"db", required_argument, nullptr, kDb},
      {"resume", no_argument, nullptr, kResume},
      {"timeout", required_argument, nullptr, kTimeout},
      {"runs", required_argument, nullptr, kRuns},
      {"device", required_argument, nullptr, kDevice},
      {"json", required_argument, nullptr, kJson},
      {"quiet", no_argument, nullptr, kQuiet},
      {"inject-fault", required_argument, nullptr, kInjectFault},
      {"inject-hang", required_argument, nullptr, kInjectHang},
      {"worker", no_argument, nullptr, kWorker},
      {"manifest", required_argument, nullptr, kManifest},
      {"fault", no_argument, nullptr, kFault},
      {"hang", no_argument, nullptr, kHang},
      {"seed", required_argument, nullptr, kSeed},
      {"candidate", required_argument, nullptr, kCandidate},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", longOptions, nullptr)) != -1) {
    switch (c) {
    case kDensities:
      for (const std::string &d : split(optarg, ','))
        o.densities.push_back(parseNumber("densities", d, 1e-6, 1));
      break;
    case kShapes:
      for (const std::string &shape : split(optarg, ',')) {
        std::vector<std::string> dims = split(shape, 'x');
        if (dims.size() != 3)
          fail("--shapes: \"" + shape + "\" is not BxHxS (e.g. 1x40x32760)");
        o.shapes.push_back({int64_t(parseNumber("shapes", dims[0], 1, 1024)),
                            int64_t(parseNumber("shapes", dims[1], 1, 4096)),
                            int64_t(parseNumber("shapes", dims[2], 1, 1e7))});
      }
      break;
    case kBudget:
      o.budgetSeconds = parseDuration(optarg);
      break;
    case kDb:
      o.db = optarg;
      break;
    case kResume:
      o.resume = true;
      break;
    case kTimeout:
      o.timeoutSeconds = parseNumber("timeout", optarg, 1, 86400);
      break;
    case kRuns:
      o.runs = int(parseNumber("runs", optarg, 20, 100000));
      break;
    case kDevice:
      o.device = int(parseNumber("device", optarg, 0, 1024));
      break;
    case kJson:
      o.json = optarg;
      break;
    case kQuiet:
      o.quiet = true;
      break;
    case kInjectFault:
      o.injectFault = int(parseNumber("inject-fault", optarg, 1, 1000));
      break;
    case kInjectHang:
      o.injectHang = int(parseNumber("inject-hang", optarg, 1, 1000));
      break;
    case kWorker:
      o.worker = true;
      break;
    case kManifest:
      o.manifest = optarg;
      break;
    case kFault:
      o.fault = true;
      break;
    case kHang:
      o.hang = true;
      break;
    case kSeed:
      o.seed = uint64_t(parseNumber("seed", optarg, 0, 1e15));
      break;
    case kCandidate: // informational: which candidate a worker measures
      break;
    default:
      cli::usage(kUsage, c == 'h');
    }
  }
  o.variant = cli::onePositional("sattn-tune", argc, argv, optind);
  return o;
}

std::string nowUtc() {
  char text[32];
  std::time_t now = std::time(nullptr);
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

/// The variant at another problem size: S tokens as one row of video (the
/// kernels do not depend on the grid), text tokens kept when they fit.
VariantParams withShape(VariantParams variant,
                        const std::array<int64_t, 3> &shape) {
  ProblemParams &p = variant.problem;
  p.batch = shape[0];
  p.heads = shape[1];
  p.textTokens = std::min(p.textTokens, shape[2] - 1);
  p.grid = {1, 1, shape[2] - p.textTokens};
  return variant;
}

// --- The worker: one candidate, in its own process ------------------------

/// Prints the worker's one JSON line and exits: 0 measured, 1 rejected.
[[noreturn]] void report(const nlohmann::json &result) {
  std::printf("%s\n", result.dump().c_str());
  std::fflush(stdout);
  std::exit(result.value("ok", false) ? 0 : 1);
}

[[noreturn]] void rejected(const std::string &why) {
  report({{"ok", false}, {"error", why}});
}

void checkOrReject(const Status &status) {
  if (!status.isOk())
    rejected(status.message());
}

[[noreturn]] void runWorker(const Options &o) {
  VariantResult read = readVariantFile(o.variant);
  if (!read)
    rejected(o.variant + ": " + read.issue.str());
  const VariantParams &variant = *read.variant;
  double density = o.densities.at(0);
  std::unique_ptr<Context> context;
  checkOrReject(Context::create(o.device, context));
  std::unique_ptr<KernelModule> module;
  checkOrReject(KernelModule::load(*context, o.manifest, module));
  const KernelModule::Kernel *kernel = module->find("sparse_attention");
  if (!kernel)
    rejected("no sparse_attention kernel");
  // The driver's verdict on registers: a block the kernel cannot run.
  int maxThreads = 0;
  const CudaDriver &cuda = context->cuda();
  cuda.funcGetAttribute(&maxThreads, cu::kMaxThreadsPerBlock, kernel->function);
  int64_t threads =
      kernel->info->block[0] * kernel->info->block[1] * kernel->info->block[2];
  if (maxThreads > 0 && threads > maxThreads)
    rejected("pruned: " + std::to_string(kernel->registers) +
             " registers per thread allow " + std::to_string(maxThreads) +
             " threads per block, the kernel needs " + std::to_string(threads));

  if (o.hang)
    for (;;)
      ::pause();

  CheckResult check;
  int64_t checkLen = std::min<int64_t>(variant.problem.seqLen(), 1031);
  checkOrReject(
      checkAttention(*module, variant, checkLen, density, o.seed, check));
  if (!check.passed())
    rejected("wrong results: relative L2 " + std::to_string(check.relL2) +
             " against float64, " + std::to_string(check.notFinite) +
             " outputs not finite");

  WorkloadShape shape = shapeOf(variant, density);
  shape.seed = o.seed;
  std::unique_ptr<AttentionWorkload> workload;
  checkOrReject(AttentionWorkload::create(*module, variant, shape, workload));
  if (o.fault) {
    // The test knob: the same kernel, with its output pointer moved to an
    // address nothing is mapped at. The launch goes through; the kernel
    // faults (CUDA_ERROR_ILLEGAL_ADDRESS) and this context is lost.
    checkOrReject(workload->runWithUnmappedOutput(nullptr));
    checkOrReject(checkCuda(cuda, "cuCtxSynchronize", cuda.ctxSynchronize()));
    rejected("the injected fault did not fault");
  }
  Timing timing;
  checkOrReject(timeWorkload(*workload, 5, o.runs, timing));
  report({{"ok", true},
          {"ms", timing.median()},
          {"ms_min", timing.ms.front()},
          {"ms_max", timing.ms.back()},
          {"rel_l2", check.relL2},
          {"registers", kernel->registers},
          {"local_bytes", kernel->localBytes},
          {"shared_bytes", kernel->info->dynamicSharedMemory}});
}

// --- The sweep ------------------------------------------------------------

volatile int interrupted = 0;
void onInterrupt(int) { interrupted = 1; }

class Sweep {
public:
  Sweep(const Options &o, const VariantParams &variant, const DeviceInfo &gpu,
        std::string arch, std::string selfPath)
      : o_(o), variant_(variant), gpu_(gpu), arch_(std::move(arch)),
        self_(std::move(selfPath)), start_(std::chrono::steady_clock::now()) {}

  /// Tunes one (shape, density); returns its summary row.
  nlohmann::ordered_json run(const std::array<int64_t, 3> &shape,
                             double density);

  bool outOfTime() const { return elapsed() >= o_.budgetSeconds; }

private:
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start_)
        .count();
  }
  /// The measurement of `p`: known, or measured now and recorded in the DB.
  const TuningMeasurement *measure(const TuningParams &p);
  TuningMeasurement measureNow(const TuningParams &p);
  void progress(const TuningParams &p, const TuningMeasurement &m);

  const Options &o_;
  const VariantParams &variant_;
  const DeviceInfo &gpu_;
  std::string arch_, self_;
  std::chrono::steady_clock::time_point start_;
  int measuredCount_ = 0; // candidates run by children, over the sweep
  double measuringSeconds_ = 0;
  // Per (shape, density):
  VariantParams shaped_;
  double density_ = 0;
  TuningEntry entry_;
  std::map<std::string, TuningMeasurement> known_;
  int planned_ = 0, done_ = 0;
};

TuningMeasurement Sweep::measureNow(const TuningParams &p) {
  TuningMeasurement m;
  m.params = p;
  m.date = nowUtc();
  JitOptions jit;
  jit.compile.arch = arch_;
  jit.compile.tuning = p;
  // The attention kernel is timed alone, on reordered inputs; the plan's
  // kernel with the same parameters reads through the token order instead
  // (the same loads, one table lookup more per row).
  jit.compile.fuseReorder = false;
  jit.driverVersion = gpu_.driverVersion;
  JitResult compiled;
  Status status = compileWithCache(shaped_, jit, compiled);
  if (!status.isOk()) {
    m.failure = "pruned: does not compile: " + status.message();
    return m;
  }
  for (const ManifestKernel &k : compiled.manifest.kernels)
    if (k.dynamicSharedMemory > gpu_.maxSharedPerBlock) {
      m.failure = "pruned: " + k.name + " needs " +
                  std::to_string(k.dynamicSharedMemory) +
                  " B of shared memory; the GPU has " +
                  std::to_string(gpu_.maxSharedPerBlock);
      return m;
    }

  char folderTemplate[] = "/tmp/sattn-tune-XXXXXX";
  if (!::mkdtemp(folderTemplate))
    fail("cannot create a temporary folder in /tmp");
  std::string folder = folderTemplate, error;
  std::string manifestPath =
      folder + "/" + compiled.manifest.name + ".manifest.json";
  if (!writeFileAtomically(folder + "/" + compiled.manifest.ptxFile,
                           compiled.ptx, &error) ||
      !writeFileAtomically(manifestPath, writeManifestJson(compiled.manifest),
                           &error))
    fail(error);
  // The worker reads the variant at this shape from a file too.
  std::string variantPath = folder + "/variant.json";
  if (!writeFileAtomically(variantPath, writeVariantJson(shaped_), &error))
    fail(error);

  ++measuredCount_;
  // SATTN_TUNE_WORKER: a stand-in for the measuring process, for the tests
  // of the sweep on machines without a GPU (it gets the same arguments).
  const char *standIn = std::getenv("SATTN_TUNE_WORKER");
  std::vector<std::string> argv = {standIn && *standIn ? standIn : self_,
                                   "--worker",
                                   "--candidate",
                                   p.text(),
                                   "--manifest",
                                   manifestPath,
                                   "--densities",
                                   std::to_string(density_),
                                   "--runs",
                                   std::to_string(o_.runs),
                                   "--device",
                                   std::to_string(o_.device),
                                   "--seed",
                                   std::to_string(measuredCount_),
                                   variantPath};
  if (measuredCount_ == o_.injectFault)
    argv.push_back("--fault");
  if (measuredCount_ == o_.injectHang)
    argv.push_back("--hang");
  IsolatedResult child;
  if (!runIsolated(argv, o_.timeoutSeconds, child, &error, &interrupted))
    fail(error);
  measuringSeconds_ += child.seconds;
  std::system(("rm -rf '" + folder + "'").c_str());

  std::string line = child.out.substr(0, child.out.find('\n'));
  nlohmann::json result = nlohmann::json::parse(line, nullptr, false);
  if (child.cancelled) {
    m.failure = "interrupted";
  } else if (result.is_object() && result.value("ok", false) && child.ok()) {
    m.ms = result.at("ms").get<double>();
    m.relL2 = result.at("rel_l2").get<double>();
  } else if (result.is_object() && result.contains("error")) {
    m.failure = result.at("error").get<std::string>();
  } else {
    m.failure = "the measuring process died: " + child.describe();
  }
  return m;
}

const TuningMeasurement *Sweep::measure(const TuningParams &p) {
  auto found = known_.find(p.text());
  if (found != known_.end())
    return &found->second;
  if (interrupted || outOfTime())
    return nullptr;
  TuningMeasurement m = measureNow(p);
  if (m.failure == "interrupted")
    return nullptr;
  TuningEntry update;
  update.key = entry_.key;
  update.variantName = entry_.variantName;
  update.record(m);
  std::string error;
  if (!TuningDb::mergeInto(o_.db, update, &error))
    fail(error + " (nothing measured so far is lost: it is in " + o_.db +
         " up to the previous candidate)");
  entry_.record(m);
  ++done_;
  progress(p, m);
  return &(known_[p.text()] = m);
}

void Sweep::progress(const TuningParams &p, const TuningMeasurement &m) {
  if (o_.quiet)
    return;
  const TuningMeasurement *best = entry_.best();
  double perCandidate = measuredCount_ ? measuringSeconds_ / measuredCount_ : 0;
  int left = std::max(0, planned_ - done_);
  char line[512];
  std::snprintf(
      line, sizeof line,
      "sattn-tune: [%2d/%2d] %-44s %s | best %s | %.0f s, ETA "
      "<= %.0f s\n",
      done_, planned_, p.text().c_str(),
      m.ok() ? (std::to_string(m.ms).substr(0, 6) + " ms").c_str() : "failed",
      best ? (std::to_string(best->ms).substr(0, 6) + " ms").c_str() : "-",
      elapsed(), left * perCandidate);
  std::fputs(line, stderr);
  if (!m.ok())
    std::fprintf(stderr, "sattn-tune:         %s\n", m.failure.c_str());
}

nlohmann::ordered_json Sweep::run(const std::array<int64_t, 3> &shape,
                                  double density) {
  shaped_ = withShape(variant_, shape);
  density_ = density;
  entry_ = TuningEntry();
  entry_.key = tuningKeyFor(shaped_, density, gpu_.name, gpu_.driverVersion,
                            SATTN_COMPILER_VERSION);
  entry_.variantName = variant_.name;
  known_.clear();
  done_ = 0;
  if (o_.resume) {
    TuningDb db;
    std::string error;
    if (!TuningDb::read(o_.db, db, &error))
      fail(error);
    if (const TuningEntry *old = db.find(entry_.key))
      for (const TuningMeasurement &m : old->measurements) {
        known_[m.params.text()] = m;
        entry_.record(m);
      }
  }
  std::fprintf(stderr,
               "sattn-tune: %s at %lldx%lldx%lld, density %g on %s (%s): %zu "
               "candidates already in %s\n",
               variant_.name.c_str(), (long long)shape[0], (long long)shape[1],
               (long long)shape[2], density, gpu_.name.c_str(), arch_.c_str(),
               known_.size(), o_.db.c_str());

  // The space: template x key tile x stages x rows per warp (mma.sync
  // takes 16 or 32 rows per warp; wgmma and wgmma-ws, sm_90a only, 16: a
  // warpgroup per 64 rows). The defaults (auto, the template's key tile)
  // are measured first, as themselves.
  const std::vector<int64_t> keyTiles = {32, 64, 128}, stages = {2, 3, 4},
                             mmaWarpRows = {16, 32}, wgmmaWarpRows = {0};
  std::vector<std::string> templates = {"mma"};
  if (arch_ == "sm_90a")
    templates.insert(templates.begin(), {"wgmma-ws", "wgmma"});
  auto warpRowsOf = [&](const std::string &t) -> const std::vector<int64_t> & {
    return t == "mma" ? mmaWarpRows : wgmmaWarpRows;
  };
  planned_ = 1;
  for (const std::string &t : templates)
    planned_ += int(keyTiles.size() * stages.size() * warpRowsOf(t).size());
  const TuningMeasurement *defaults = measure(TuningParams());

  for (const std::string &t : templates)
    for (int64_t kt : keyTiles)
      for (int64_t wr : warpRowsOf(t)) {
        TuningParams p;
        p.attentionTemplate = t;
        p.keyTile = kt;
        p.stages = 2;
        p.warpRows = wr;
        measure(p);
      }
  // Local search from the best: one knob, one step.
  auto neighbours = [&](const TuningParams &at) {
    std::vector<TuningParams> out;
    auto step = [&](const std::vector<int64_t> &values, int64_t current,
                    auto set) {
      for (size_t i = 0; i < values.size(); ++i)
        if (values[i] == current) {
          if (i > 0)
            out.push_back(set(values[i - 1]));
          if (i + 1 < values.size())
            out.push_back(set(values[i + 1]));
        }
    };
    step(keyTiles, at.keyTile, [&](int64_t v) {
      TuningParams n = at;
      n.keyTile = v;
      return n;
    });
    step(stages, at.stages, [&](int64_t v) {
      TuningParams n = at;
      n.stages = v;
      return n;
    });
    step(warpRowsOf(at.attentionTemplate), at.warpRows, [&](int64_t v) {
      TuningParams n = at;
      n.warpRows = v;
      return n;
    });
    for (const std::string &t : templates)
      if (t != at.attentionTemplate && at.keyTile != 0) {
        TuningParams n = at;
        n.attentionTemplate = t;
        n.warpRows = warpRowsOf(t).front();
        out.push_back(n);
      }
    return out;
  };
  for (bool improved = true; improved && !interrupted && !outOfTime();) {
    improved = false;
    const TuningMeasurement *best = entry_.best();
    if (!best)
      break;
    TuningParams from = best->params;
    double bestMs = best->ms;
    for (const TuningParams &n : neighbours(from)) {
      const TuningMeasurement *m = measure(n);
      if (m && m->ok() && m->ms < bestMs)
        improved = true;
    }
  }

  const TuningMeasurement *best = entry_.best();
  defaults = entry_.find(TuningParams());
  int failed = 0;
  for (const TuningMeasurement &m : entry_.measurements)
    failed += !m.ok();
  nlohmann::ordered_json row = {{"variant", variant_.name},
                                {"shape", {shape[0], shape[1], shape[2]}},
                                {"density", density},
                                {"shape_bucket", entry_.key.shapeBucket},
                                {"candidates", entry_.measurements.size()},
                                {"failed", failed}};
  if (defaults && defaults->ok())
    row["default"] = {{"params", defaults->params.text()},
                      {"ms", defaults->ms}};
  if (best) {
    row["best"] = {{"params", best->params.text()}, {"ms", best->ms}};
    if (defaults && defaults->ok())
      row["speedup"] = defaults->ms / best->ms;
  }
  row["seconds"] = elapsed();
  std::fprintf(stderr,
               "sattn-tune: %s density %g: best %s (%.3f ms), default %.3f "
               "ms; %zu candidates, %d failed\n",
               variant_.name.c_str(), density,
               best ? best->params.text().c_str() : "none",
               best ? best->ms : 0.0,
               defaults && defaults->ok() ? defaults->ms : 0.0,
               entry_.measurements.size(), failed);
  return row;
}

std::string selfPath(const char *argv0) {
  char path[4096];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0)
    return argv0;
  path[n] = '\0';
  return path;
}

} // namespace

int main(int argc, char **argv) {
  Options o = parse(argc, argv);
  if (o.worker) {
    if (o.manifest.empty() || o.densities.size() != 1)
      rejected("--worker needs --manifest and one --densities value");
    runWorker(o);
  }

  VariantResult read = readVariantFile(o.variant);
  if (!read)
    fail(o.variant + ": " + read.issue.str());
  const VariantParams &variant = *read.variant;
  std::string why;
  std::optional<DeviceInfo> gpu = queryDevice(o.device, &why);
  std::string arch;
  if (const char *fake = std::getenv("SATTN_TUNE_FAKE_GPU"); fake && *fake) {
    // For the tests of the sweep without a GPU (with SATTN_TUNE_WORKER):
    // "NAME;DRIVER;ARCH;MAX_SHARED_BYTES".
    std::vector<std::string> f = split(fake, ';');
    if (f.size() != 4)
      fail("SATTN_TUNE_FAKE_GPU is not NAME;DRIVER;ARCH;MAX_SHARED_BYTES");
    gpu = DeviceInfo();
    gpu->name = f[0];
    gpu->driverVersion = int(parseNumber("driver", f[1], 0, 1e6));
    arch = f[2];
    gpu->maxSharedPerBlock = int(parseNumber("shared", f[3], 0, 1e7));
  } else {
    if (!gpu)
      fail("no GPU to tune on: " + why, 3);
    arch = archForDevice(*gpu, &why);
    if (arch.empty())
      fail(why, 3);
  }
  if (variant.target.arch == Arch::SM90a && arch != "sm_90a")
    fail("the variant targets sm_90a, but " + gpu->name + " is not sm_90");
  if (variant.target.arch == Arch::SM80)
    arch = "sm_80";
  if (o.db.empty())
    o.db = defaultTuningDbPath();
  if (o.densities.empty())
    o.densities = {variant.selection.density};
  if (o.shapes.empty())
    o.shapes = {{variant.problem.batch, variant.problem.heads,
                 variant.problem.seqLen()}};

  std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);
  Sweep sweep(o, variant, *gpu, arch, selfPath(argv[0]));
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto &shape : o.shapes)
    for (double density : o.densities) {
      if (interrupted || sweep.outOfTime())
        break;
      rows.push_back(sweep.run(shape, density));
    }
  if (!o.json.empty()) {
    std::string command;
    for (int i = 0; i < argc; ++i)
      command += (i ? " " : "") + std::string(argv[i]);
    nlohmann::ordered_json summary = {
        {"device", gpu->name}, {"driver", gpu->driverVersion},
        {"arch", arch},        {"compiler", SATTN_COMPILER_VERSION},
        {"date", nowUtc()},    {"command", command},
        {"db", o.db},          {"rows", rows}};
    std::string error;
    if (!writeFileAtomically(o.json, summary.dump(2) + "\n", &error))
      fail(error);
  }
  if (interrupted) {
    std::fprintf(stderr,
                 "sattn-tune: interrupted; everything measured is in "
                 "%s (--resume continues)\n",
                 o.db.c_str());
    return 130;
  }
  if (sweep.outOfTime())
    std::fprintf(stderr, "sattn-tune: budget spent; --resume continues\n");
  return 0;
}
