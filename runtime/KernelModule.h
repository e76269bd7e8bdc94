//===- KernelModule.h - A variant's PTX, loaded -----------------*- C++ -*-===//

#ifndef SATTN_RUNTIME_KERNELMODULE_H
#define SATTN_RUNTIME_KERNELMODULE_H

#include "compiler/Manifest.h"
#include "runtime/Context.h"
#include "runtime/CubinCache.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace sattn {

/// Where a module's cubin is cached (CubinCache.h).
struct CubinOptions {
  bool use = true;
  std::string folder; // empty: the kernel cache's default folder
  /// fnv1a(ptx) when the caller has it (the kernel cache computes it while
  /// checking an entry), so the PTX is not hashed again.
  std::optional<uint64_t> ptxHash;
};

/// `ptx` through the driver's linker (cuLinkCreate ... cuLinkComplete): the
/// cubin it makes for the current context's GPU. The JIT compiles the
/// module's functions on all the machine's cores (CU_JIT_SPLIT_COMPILE); a
/// driver that refuses that option gets the link again without it. A PTX
/// that does not compile fails with the JIT's log.
Status linkPtx(const CudaDriver &cuda, const std::string &ptx,
               const std::string &name, std::string &cubin);

/// The grid a kernel is launched with for the problem grid `grid`: the same,
/// or for a persistent kernel (ManifestKernel::persistent) one CTA per
/// multiprocessor, at most one per work item, in x.
std::array<unsigned, 3> launchGrid(const ManifestKernel &kernel,
                                   std::array<unsigned, 3> grid,
                                   int multiprocessors);

class KernelModule {
public:
  struct Kernel {
    const ManifestKernel *info = nullptr;
    cu::Function function = nullptr;
    int registers = 0;
    int localBytes = 0; // spills and local arrays, per thread
  };

  /// Loads NAME.manifest.json and the PTX file it names (in the same
  /// folder). A PTX the driver rejects comes back with the JIT log in the
  /// message.
  static Status load(const Context &context, const std::string &manifestPath,
                     std::unique_ptr<KernelModule> &out,
                     const CubinOptions &cubin = CubinOptions());
  /// Loads PTX text with its manifest: the cached cubin of this PTX for
  /// this GPU and driver if there is one, else the PTX through the driver's
  /// linker, its cubin then stored.
  static Status load(const Context &context, const std::string &ptx,
                     Manifest manifest, std::unique_ptr<KernelModule> &out,
                     const CubinOptions &cubin = CubinOptions());
  ~KernelModule();
  KernelModule(const KernelModule &) = delete;
  KernelModule &operator=(const KernelModule &) = delete;

  const Manifest &manifest() const { return manifest_; }
  const Context &context() const { return *context_; }
  /// Whether the machine code came from a cached cubin, was built (and
  /// stored), or the PTX was loaded directly.
  CubinSource cubinSource() const { return cubinSource_; }
  /// What went wrong with the cubin cache, if anything (the module works).
  const std::string &cubinNote() const { return cubinNote_; }
  /// The kernel of stage `stage` ("sparse_attention"), or null.
  const Kernel *find(std::string_view stage) const;
  /// Every kernel, in the order of manifest().kernels.
  const std::vector<Kernel> &kernels() const { return kernels_; }

  /// Launches `kernel` with its dynamic shared memory; `params` holds one
  /// pointer per manifest parameter. Asynchronous on `stream`. `grid` is
  /// the problem's (a persistent kernel gets launchGrid's instead).
  Status launch(const Kernel &kernel, std::array<unsigned, 3> grid,
                void **params, cu::Stream stream) const;

private:
  explicit KernelModule(const Context &context) : context_(&context) {}
  const Context *context_;
  Manifest manifest_;
  cu::Module module_ = nullptr;
  CubinSource cubinSource_ = CubinSource::None;
  std::string cubinNote_;
  std::vector<Kernel> kernels_;
};

} // namespace sattn

#endif // SATTN_RUNTIME_KERNELMODULE_H
