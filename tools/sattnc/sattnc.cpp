//===- sattnc.cpp - Compile a variant to PTX and a manifest ---------------===//
//
//   sattnc VARIANT.json -o DIR [--arch=sm_80|sm_90a|auto] [--emit=...]
//
// Writes DIR/NAME.ptx and DIR/NAME.manifest.json (SPEC §5). Every error is
// one line, `sattnc: error: FILE: FIELD: what is wrong (allowed: ...)`, exit
// code 1, and no output file is left behind, whole or partial.
//
//===----------------------------------------------------------------------===//

#include "compiler/Compiler.h"
#include "compiler/Version.h"
#include "dialect/VariantJson.h"
#include "runtime/CudaDriver.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <map>

using namespace llvm;

namespace {

cl::OptionCategory category("sattnc options");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("VARIANT.json"),
                               cl::Required, cl::cat(category));
cl::opt<std::string> outputDir("o",
                               cl::desc("Directory for the outputs "
                                        "(created if missing)"),
                               cl::value_desc("DIR"), cl::Required,
                               cl::cat(category));
cl::opt<std::string>
    archOption("arch",
               cl::desc("Target: sm_80 (Ampere and newer, mma.sync), sm_90a "
                        "(Hopper only, wgmma/TMA) or auto (ask the CUDA "
                        "driver; sm_80 when there is no GPU). Default: the "
                        "variant's target.arch"),
               cl::value_desc("ARCH"), cl::cat(category));
enum class Emit { All, PTX, Manifest, MLIR };
cl::opt<Emit> emit(
    "emit", cl::desc("What to write (default: all = ptx + manifest)"),
    cl::values(clEnumValN(Emit::All, "all", "NAME.ptx and NAME.manifest.json"),
               clEnumValN(Emit::PTX, "ptx", "NAME.ptx only"),
               clEnumValN(Emit::Manifest, "manifest",
                          "NAME.manifest.json only"),
               clEnumValN(Emit::MLIR, "mlir",
                          "NAME.mlir: the stage ops and their kernels as "
                          "gpu.funcs, before lowering")),
    cl::init(Emit::All), cl::cat(category));
cl::opt<bool> quiet("quiet", cl::desc("Print nothing on success"),
                    cl::cat(category));
cl::opt<std::string> attentionTemplate(
    "attention-template",
    cl::desc("Sparse attention kernel: auto (the default: on sm_90a "
             "wgmma-ws, else wgmma, where they take the tile parameters; "
             "else mma), mma (tensor "
             "cores, mma.sync), wgmma (sm_90a tensor cores), wgmma-ws "
             "(sm_90a, warp-specialized: a load warpgroup, two consumer "
             "warpgroups taking turns) or simt "
             "(portable, no tensor cores; for debugging)"),
    cl::init("auto"), cl::cat(category));
cl::opt<bool> fuseReorder(
    "fuse-reorder",
    cl::desc("Read q, k, v and write the output through the token order in "
             "the pool and attention kernels (the default); "
             "--fuse-reorder=false runs reorder and unreorder kernels over "
             "them instead"),
    cl::init(true), cl::cat(category));
cl::OptionCategory tuning("sattnc tile parameters (the autotuner's knobs)");
cl::opt<int64_t> keyTile("key-tile",
                         cl::desc("Keys per shared-memory tile: 32, 64, 128 "
                                  "(0: the template's default)"),
                         cl::init(0), cl::cat(tuning));
cl::opt<int64_t> stages("stages", cl::desc("cp.async pipeline depth: 2, 3, 4"),
                        cl::init(2), cl::cat(tuning));
cl::opt<int64_t> warpRows("warp-rows",
                          cl::desc("Query rows per warp: 16, 32 (0: default)"),
                          cl::init(0), cl::cat(tuning));
cl::opt<bool> persistent(
    "persistent",
    cl::desc("wgmma-ws: a persistent grid, one CTA per multiprocessor "
             "walking the (query block, head, batch) items, instead of one "
             "CTA per item (the default)"),
    cl::init(false), cl::cat(tuning));

[[noreturn]] void fail(const Twine &message) {
  errs() << "sattnc: error: " << message << "\n";
  std::exit(1);
}

/// The arch to compile for: --arch, else the variant's; "auto" asks the
/// driver and falls back to sm_80 (whose PTX runs on every supported GPU).
std::string resolveArch(const sattn::VariantParams &variant) {
  std::string arch = archOption.getNumOccurrences()
                         ? archOption.getValue()
                         : std::string(sattn::toString(variant.target.arch));
  if (arch != "auto") {
    if (!sattn::parseEnum<sattn::Arch>(arch))
      fail("--arch: unknown value \"" + arch +
           "\" (allowed: " + sattn::enumSpellings<sattn::Arch>() + ")");
    return arch;
  }
  std::string why;
  std::optional<sattn::DeviceInfo> device = sattn::queryDevice(0, &why);
  if (!device) {
    if (!quiet)
      errs() << "sattnc: note: target.arch is auto and " << why
             << "; compiling for sm_80\n";
    return "sm_80";
  }
  std::string resolved = sattn::archForDevice(*device, &why);
  if (resolved.empty())
    fail(inputFile + ": target.arch: " + why);
  return resolved;
}

struct Output {
  std::string path, contents, tempPath;
};

/// Writes every output to a temporary file in DIR first and renames them
/// into place only when all were written: a full disk or a failed write
/// leaves no file behind, whole or partial.
void writeAtomically(std::vector<Output> &outputs) {
  auto cleanup = [&] {
    for (Output &o : outputs)
      if (!o.tempPath.empty())
        sys::fs::remove(o.tempPath);
  };
  for (Output &o : outputs) {
    int fd;
    SmallString<256> temp;
    std::string model = o.path + ".tmp-%%%%%%";
    if (std::error_code ec = sys::fs::createUniqueFile(model, fd, temp)) {
      cleanup();
      fail(o.path + ": cannot create: " + ec.message());
    }
    o.tempPath = temp.str().str();
    raw_fd_ostream out(fd, /*shouldClose=*/true);
    out << o.contents;
    out.close();
    if (out.has_error()) {
      std::string message = out.error().message();
      out.clear_error();
      cleanup();
      fail(o.path + ": cannot write: " + message);
    }
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    if (std::error_code ec =
            sys::fs::rename(outputs[i].tempPath, outputs[i].path)) {
      for (size_t j = 0; j < i; ++j)
        sys::fs::remove(outputs[j].path);
      cleanup();
      fail(outputs[i].path + ": cannot write: " + ec.message());
    }
}

std::string humanBytes(int64_t bytes) {
  char text[32];
  if (bytes >= (int64_t(1) << 20))
    snprintf(text, sizeof text, "%.1f MiB", bytes / 1048576.0);
  else
    snprintf(text, sizeof text, "%.1f KiB", bytes / 1024.0);
  return text;
}

/// One line: each kernel with its launch shape, and the stages still
/// without a kernel.
std::string summary(const sattn::Manifest &m) {
  std::string line;
  raw_string_ostream os(line);
  // Kernels counted per stage in launch order; the attention kernel's
  // launch shape in full.
  os << m.kernels.size() << " kernel" << (m.kernels.size() == 1 ? "" : "s")
     << ":";
  std::vector<std::pair<std::string, int>> perStage;
  for (const sattn::ManifestKernel &k : m.kernels) {
    auto it = std::find_if(perStage.begin(), perStage.end(),
                           [&](const auto &e) { return e.first == k.stage; });
    if (it == perStage.end())
      perStage.emplace_back(k.stage, 1);
    else
      ++it->second;
  }
  for (auto &[stage, count] : perStage) {
    os << " " << stage << (count > 1 ? "x" + std::to_string(count) : "");
    for (const sattn::ManifestKernel &k : m.kernels)
      if (k.stage == stage && stage == "sparse_attention")
        os << " [" << k.name << ": "
           << (k.implementation.empty() ? "" : k.implementation + ", ")
           << "grid " << k.grid[0] << "x" << k.grid[1]
           << "x" << k.grid[2] << ", block " << k.block[0] << ", "
           << k.params.size() << " params]";
  }
  // Stages without a kernel, per op and reason.
  std::map<std::pair<std::string, std::string>, int> pending;
  for (const sattn::ManifestStage &s : m.stages)
    if (s.kernels.empty())
      ++pending[{StringRef(s.op).drop_front(6).str(), s.note}];
  if (!pending.empty()) {
    os << "; stages without a kernel yet:";
    for (auto &[key, count] : pending)
      os << " " << key.first << (count > 1 ? "x" + std::to_string(count) : "")
         << (key.second.empty() ? "" : " (" + key.second + ")");
  }
  os << "; workspace " << humanBytes(m.workspaceBytes());
  return line;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&category, &tuning});
  cl::SetVersionPrinter(
      [](raw_ostream &os) { os << SATTN_COMPILER_VERSION << "\n"; });
  cl::ParseCommandLineOptions(
      argc, argv,
      "sattnc: compile a sparse-attention variant to PTX\n\n"
      "  sattnc examples/wan2.1-480p.json -o out\n\n"
      "reads VARIANT.json (the variant format of SPEC §3), writes\n"
      "DIR/NAME.ptx (the kernels) and DIR/NAME.manifest.json (buffers,\n"
      "stages, and per kernel its launch shape and parameters), where NAME\n"
      "is the variant's name.\n");

  sattn::VariantResult read = sattn::readVariantFile(inputFile);
  if (!read)
    fail(inputFile + ": " + read.issue.str());
  const sattn::VariantParams &variant = *read.variant;

  sattn::CompileOptions options;
  options.arch = resolveArch(variant);
  options.tuning.attentionTemplate = attentionTemplate;
  options.tuning.keyTile = keyTile;
  options.tuning.stages = stages;
  options.tuning.warpRows = warpRows;
  options.tuning.persistent = persistent;
  options.fuseReorder = fuseReorder;
  if (std::string problem = options.tuning.problem(); !problem.empty())
    fail("--" + problem);
  auto start = std::chrono::steady_clock::now();
  Expected<sattn::CompileResult> compiled =
      sattn::compileVariant(variant, options);
  if (!compiled) {
    std::string message = toString(compiled.takeError());
    // One line, whatever the diagnostics held.
    std::replace(message.begin(), message.end(), '\n', ' ');
    fail(inputFile + ": " + message);
  }
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();

  if (sys::fs::exists(outputDir) && !sys::fs::is_directory(outputDir))
    fail(outputDir + ": cannot create the output directory: a file of that "
                     "name exists");
  if (std::error_code ec = sys::fs::create_directories(outputDir))
    fail(outputDir + ": cannot create the output directory: " + ec.message());
  auto path = [&](StringRef suffix) {
    SmallString<256> p(outputDir);
    sys::path::append(p, variant.name + suffix.str());
    return p.str().str();
  };
  std::vector<Output> outputs;
  if (emit == Emit::All || emit == Emit::PTX)
    outputs.push_back({path(".ptx"), compiled->ptx, ""});
  if (emit == Emit::All || emit == Emit::Manifest)
    outputs.push_back({path(".manifest.json"),
                       sattn::writeManifestJson(compiled->manifest), ""});
  if (emit == Emit::MLIR)
    outputs.push_back({path(".mlir"), compiled->mlir, ""});
  writeAtomically(outputs);

  if (!quiet) {
    outs() << "sattnc: " << variant.name << " (" << options.arch << ", "
           << format("%.0f", ms) << " ms): wrote";
    for (const Output &o : outputs)
      outs() << " " << o.path;
    outs() << "\n";
    outs() << "sattnc: " << summary(compiled->manifest) << "\n";
  }
  return 0;
}
