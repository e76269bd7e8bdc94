//===- KernelModule.cpp - A variant's PTX, loaded, with its manifest ------===//

#include "runtime/KernelModule.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace sattn {

static Status readFile(const std::string &path, std::string &text) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(SATTN_ERROR_IO, path + ": cannot be opened");
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad())
    return Status::error(SATTN_ERROR_IO, path + ": cannot be read");
  text = contents.str();
  return Status::ok();
}

namespace {

/// The JIT's log buffers, as the options of cuModuleLoadDataEx and
/// cuLinkCreate: a PTX that does not compile is reported with ptxas' words.
/// With `splitCompile`, a fifth option lets the JIT compile the module's
/// functions on all the machine's cores (CU_JIT_SPLIT_COMPILE = 0).
struct JitLogs {
  std::string info = std::string(16384, '\0');
  std::string error = std::string(16384, '\0');
  int options[5] = {cu::kJitInfoLogBuffer, cu::kJitInfoLogBufferSizeBytes,
                    cu::kJitErrorLogBuffer, cu::kJitErrorLogBufferSizeBytes,
                    cu::kJitSplitCompile};
  void *values[5] = {
      info.data(), reinterpret_cast<void *>(uintptr_t(info.size())),
      error.data(), reinterpret_cast<void *>(uintptr_t(error.size())),
      nullptr};
  unsigned count(bool splitCompile) const { return splitCompile ? 5 : 4; }
};

/// The status of a JIT call: out of memory stays itself, any other failure
/// is SATTN_ERROR_INVALID_KERNELS with the JIT's error log on one line.
Status jitStatus(const CudaDriver &cuda, const char *call, cu::Result result,
                 const JitLogs &logs, const std::string &name) {
  if (result == cu::kSuccess)
    return Status::ok();
  std::string log = logs.error.c_str();
  for (char &c : log)
    if (c == '\n')
      c = ' ';
  Status status = checkCuda(cuda, call, result);
  return Status::error(status.code() == SATTN_ERROR_OUT_OF_MEMORY
                           ? status.code()
                           : SATTN_ERROR_INVALID_KERNELS,
                       name + ": " + status.message() +
                           (log.empty() ? "" : "; JIT log: " + log));
}

Status linkPtxOnce(const CudaDriver &cuda, const std::string &ptx,
                   const std::string &name, bool splitCompile,
                   std::string &cubin) {
  JitLogs logs;
  cu::LinkState state = nullptr;
  SATTN_RETURN_IF_ERROR(jitStatus(
      cuda, "cuLinkCreate",
      cuda.linkCreate(logs.count(splitCompile), logs.options, logs.values,
                      &state),
      logs, name));
  // The linker owns the cubin (and writes the logs) until it is destroyed.
  struct Destroy {
    const CudaDriver &cuda;
    cu::LinkState state;
    ~Destroy() { cuda.linkDestroy(state); }
  } destroy{cuda, state};
  SATTN_RETURN_IF_ERROR(jitStatus(
      cuda, "cuLinkAddData",
      cuda.linkAddData(state, cu::kJitInputPtx, const_cast<char *>(ptx.c_str()),
                       ptx.size() + 1, name.c_str(), 0, nullptr, nullptr),
      logs, name));
  void *image = nullptr;
  size_t size = 0;
  SATTN_RETURN_IF_ERROR(jitStatus(cuda, "cuLinkComplete",
                                  cuda.linkComplete(state, &image, &size), logs,
                                  name));
  cubin.assign(static_cast<const char *>(image), size);
  return Status::ok();
}

} // namespace

Status linkPtx(const CudaDriver &cuda, const std::string &ptx,
               const std::string &name, std::string &cubin) {
  Status status = linkPtxOnce(cuda, ptx, name, /*splitCompile=*/true, cubin);
  // A driver without the option refuses it: link again without.
  if (!status.isOk() && status.code() != SATTN_ERROR_OUT_OF_MEMORY)
    status = linkPtxOnce(cuda, ptx, name, /*splitCompile=*/false, cubin);
  return status;
}

Status KernelModule::load(const Context &context,
                          const std::string &manifestPath,
                          std::unique_ptr<KernelModule> &out,
                          const CubinOptions &cubinOptions) {
  std::string text, error;
  SATTN_RETURN_IF_ERROR(readFile(manifestPath, text));
  Manifest manifest;
  if (!parseManifestJson(text, manifest, error))
    return Status::error(SATTN_ERROR_INVALID_KERNELS,
                         manifestPath + ": " + error);
  size_t slash = manifestPath.find_last_of('/');
  std::string folder =
      slash == std::string::npos ? "" : manifestPath.substr(0, slash + 1);
  std::string ptx;
  SATTN_RETURN_IF_ERROR(readFile(folder + manifest.ptxFile, ptx));
  return load(context, ptx, std::move(manifest), out, cubinOptions);
}

Status KernelModule::load(const Context &context, const std::string &ptx,
                          Manifest manifest, std::unique_ptr<KernelModule> &out,
                          const CubinOptions &cubinOptions) {
  const CudaDriver &cuda = context.cuda();
  const DeviceInfo &device = context.device();
  // sm_90a PTX runs only on sm_90 parts; sm_80 PTX is JIT-compiled for any
  // later one.
  if (manifest.arch == "sm_90a" && context.arch() != "sm_90a")
    return Status::error(
        SATTN_ERROR_INVALID_KERNELS,
        manifest.name +
            ": the kernels were compiled for sm_90a, which runs "
            "only on compute capability 9.0; " +
            device.name + " has " + std::to_string(device.computeMajor) + "." +
            std::to_string(device.computeMinor) + " (compile for sm_80)");
  if (manifest.arch != "sm_80" && manifest.arch != "sm_90a")
    return Status::error(SATTN_ERROR_INVALID_KERNELS, manifest.name +
                                                          ": unknown arch \"" +
                                                          manifest.arch + "\"");
  SATTN_RETURN_IF_ERROR(context.makeCurrent());

  std::unique_ptr<KernelModule> module(new KernelModule(context));
  module->manifest_ = std::move(manifest);
  const std::string &name = module->manifest_.name;
  cu::Module &handle = module->module_;
  ModuleLoadSteps steps;
  steps.loadCubin = [&](const std::string &cubin) {
    return checkCuda(cuda, "cuModuleLoadData",
                     cuda.moduleLoadData(&handle, cubin.data()));
  };
  steps.buildCubin = [&](std::string &cubin) {
    return linkPtx(cuda, ptx, name, cubin);
  };
  steps.loadPtx = [&] {
    JitLogs logs;
    return jitStatus(cuda, "cuModuleLoadDataEx",
                     cuda.moduleLoadDataEx(&handle, ptx.c_str(),
                                           logs.count(/*splitCompile=*/false),
                                           logs.options, logs.values),
                     logs, name);
  };
  // setmaxnreg (the warp-specialized kernel's register split) only takes
  // effect in a whole-program compile: such PTX skips the linker and the
  // cubin cache.
  bool wholeProgram = needsWholeProgramCompile(ptx);
  std::optional<CubinCache> cache;
  CubinKey key;
  if (cubinOptions.use && !wholeProgram) {
    cache.emplace(cubinOptions.folder);
    key = cubinKeyFor(ptx, cubinOptions.ptxHash, device.computeMajor,
                      device.computeMinor, device.driverVersion);
  }
  CubinOutcome outcome;
  SATTN_RETURN_IF_ERROR(
      loadThroughCubinCache(cache ? &*cache : nullptr, key, steps, outcome));
  module->cubinSource_ = outcome.source;
  module->cubinNote_ = std::move(outcome.note);
  for (const ManifestKernel &info : module->manifest_.kernels) {
    Kernel kernel;
    kernel.info = &info;
    SATTN_RETURN_IF_ERROR(
        checkCuda(cuda, "cuModuleGetFunction",
                  cuda.moduleGetFunction(&kernel.function, module->module_,
                                         info.name.c_str())));
    if (info.dynamicSharedMemory > device.maxSharedPerBlock)
      return Status::error(
          SATTN_ERROR_INVALID_KERNELS,
          info.name + " needs " + std::to_string(info.dynamicSharedMemory) +
              " bytes of shared memory; " + device.name + " allows " +
              std::to_string(device.maxSharedPerBlock));
    // Above 48 KB a kernel must ask for its dynamic shared memory.
    if (info.dynamicSharedMemory > 48 * 1024)
      SATTN_RETURN_IF_ERROR(checkCuda(
          cuda, "cuFuncSetAttribute",
          cuda.funcSetAttribute(kernel.function, cu::kMaxDynamicSharedSizeBytes,
                                int(info.dynamicSharedMemory))));
    cuda.funcGetAttribute(&kernel.registers, cu::kNumRegs, kernel.function);
    cuda.funcGetAttribute(&kernel.localBytes, cu::kLocalSizeBytes,
                          kernel.function);
    module->kernels_.push_back(kernel);
  }
  out = std::move(module);
  return Status::ok();
}

KernelModule::~KernelModule() {
  if (module_)
    context_->cuda().moduleUnload(module_);
}

const KernelModule::Kernel *KernelModule::find(std::string_view stage) const {
  for (const Kernel &kernel : kernels_)
    if (kernel.info->stage == stage)
      return &kernel;
  return nullptr;
}

std::array<unsigned, 3> launchGrid(const ManifestKernel &kernel,
                                   std::array<unsigned, 3> grid,
                                   int multiprocessors) {
  if (!kernel.persistent)
    return grid;
  uint64_t items = uint64_t(grid[0]) * grid[1] * grid[2];
  return {unsigned(std::min<uint64_t>(items, uint64_t(std::max(1, multiprocessors)))),
          1, 1};
}

Status KernelModule::launch(const Kernel &kernel, std::array<unsigned, 3> grid,
                            void **params, cu::Stream stream) const {
  const ManifestKernel &info = *kernel.info;
  const CudaDriver &cuda = context_->cuda();
  grid = launchGrid(info, grid, context_->device().multiprocessors);
  return checkCuda(
      cuda, "cuLaunchKernel",
      cuda.launchKernel(
          kernel.function, grid[0], grid[1], grid[2], unsigned(info.block[0]),
          unsigned(info.block[1]), unsigned(info.block[2]),
          unsigned(info.dynamicSharedMemory), stream, params, nullptr));
}

} // namespace sattn
