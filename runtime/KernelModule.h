//===- KernelModule.h - A variant's PTX, loaded -----------------*- C++ -*-===//

#ifndef SATTN_RUNTIME_KERNELMODULE_H
#define SATTN_RUNTIME_KERNELMODULE_H

#include "compiler/Manifest.h"
#include "runtime/Context.h"

#include <array>
#include <memory>
#include <string_view>
#include <vector>

namespace sattn {

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
                     std::unique_ptr<KernelModule> &out);
  /// Loads PTX text with its manifest.
  static Status load(const Context &context, const std::string &ptx,
                     Manifest manifest, std::unique_ptr<KernelModule> &out);
  ~KernelModule();
  KernelModule(const KernelModule &) = delete;
  KernelModule &operator=(const KernelModule &) = delete;

  const Manifest &manifest() const { return manifest_; }
  const Context &context() const { return *context_; }
  /// The kernel of stage `stage` ("sparse_attention"), or null.
  const Kernel *find(std::string_view stage) const;
  /// Every kernel, in the order of manifest().kernels.
  const std::vector<Kernel> &kernels() const { return kernels_; }

  /// Launches `kernel` with its dynamic shared memory; `params` holds one
  /// pointer per manifest parameter. Asynchronous on `stream`.
  Status launch(const Kernel &kernel, std::array<unsigned, 3> grid,
                void **params, cu::Stream stream) const;

private:
  explicit KernelModule(const Context &context) : context_(&context) {}
  const Context *context_;
  Manifest manifest_;
  cu::Module module_ = nullptr;
  std::vector<Kernel> kernels_;
};

} // namespace sattn

#endif // SATTN_RUNTIME_KERNELMODULE_H
