//===- CubinCache.h - The driver's machine code, kept on disk ---*- C++ -*-===//
//
// Loading PTX costs the driver its JIT (about a second for a plan's
// kernels) and, even when its own JIT cache hits, a pass over the whole PTX
// text. The cubin cache keeps what the driver's linker made of a PTX for
// this GPU and driver, so that a later load is cuModuleLoadData of machine
// code. One file per cubin next to the kernel cache's entries, in the same
// envelope (CacheFile.h): written atomically, checksummed, a damaged file
// reported once, removed and rebuilt.
//
// - The key is what makes a cubin valid: the PTX (its FNV-1a hash and
//   size), the GPU's compute capability ("sm_90": the cubin's machine code)
//   and the driver version (its JIT made the cubin). A cubin for another
//   PTX, GPU or driver is never loaded.
// - A cubin the driver refuses to load is rebuilt from the PTX and
//   rewritten; a cubin that cannot be stored costs the file, not the
//   module; when the linker itself fails the PTX is loaded as before
//   (cuModuleLoadDataEx), so the cubin cache never makes a load fail that
//   worked without it.
//
// The file logic and the order of the steps are plain C++ (the driver's
// calls come in as functions): tested on machines without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_CUBINCACHE_H
#define SATTN_RUNTIME_CUBINCACHE_H

#include "runtime/Status.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sattn {

struct CubinKey {
  uint64_t ptxHash = 0; // fnv1a of the PTX text (Files.h)
  size_t ptxBytes = 0;
  std::string device;    // the GPU's compute capability: "sm_90", "sm_86"
  int driverVersion = 0; // cuDriverGetVersion, e.g. 12040

  /// The whole key as one string (what is compared on load).
  std::string text() const;
  /// Hex digest of text(): the file's name.
  std::string digest() const;
};

/// The key of `ptx` (hashed here unless `ptxHash` is given) on a GPU of
/// compute capability `major`.`minor` under driver `driverVersion`.
CubinKey cubinKeyFor(const std::string &ptx, std::optional<uint64_t> ptxHash,
                     int major, int minor, int driverVersion);

class CubinCache {
public:
  /// The cache in `folder`; empty: the kernel cache's default folder.
  explicit CubinCache(std::string folder = "");

  const std::string &folder() const { return folder_; }
  std::string pathFor(const CubinKey &key) const;

  /// The cubin for `key`, or nothing (a miss). A damaged file is a miss;
  /// `problem` then says what was wrong with it (and it is removed).
  std::optional<std::string> load(const CubinKey &key,
                                  std::string *problem = nullptr) const;
  /// Stores `cubin` atomically; false with `error` set (and no file left
  /// behind) when the folder cannot be written or the disk is full.
  bool store(const CubinKey &key, const std::string &cubin,
             std::string *error) const;
  void remove(const CubinKey &key) const;

private:
  std::string folder_;
};

/// Where a module's machine code came from, as sattn_kernels_describe says.
enum class CubinSource {
  None,   // the PTX was loaded (no cubin cache, or the linker failed)
  Cached, // a cached cubin was loaded
  Built,  // the linker made the cubin, which was loaded (and stored)
};
/// "none", "cached", "built".
const char *toString(CubinSource source);

/// The driver's part of loading a module (KernelModule supplies them; tests
/// stand in for the driver).
struct ModuleLoadSteps {
  /// cuModuleLoadData of a cubin.
  std::function<Status(const std::string &cubin)> loadCubin;
  /// The PTX through the driver's linker (cuLinkCreate ... cuLinkComplete).
  std::function<Status(std::string &cubin)> buildCubin;
  /// The PTX loaded directly (cuModuleLoadDataEx), the path without a cubin.
  std::function<Status()> loadPtx;
};

struct CubinOutcome {
  CubinSource source = CubinSource::None;
  /// What went wrong with the cubin cache, if anything (the module is
  /// fine): a damaged or refused cubin that was rebuilt, a cubin that could
  /// not be stored, a linker failure that fell back to the PTX.
  std::string note;
};

/// Whether `ptx` must be compiled as a whole program, so not through the
/// driver's linker nor the cubin cache: it has setmaxnreg, which the
/// linker's relocatable compile ignores (ptxas C7504; the warp-specialized
/// kernel's consumers would then spill). The driver's own JIT cache keeps
/// such a module across processes.
bool needsWholeProgramCompile(std::string_view ptx);

/// Loads the module through `cache` (null: straight from the PTX). Fails
/// only when the module cannot be loaded at all; that status is the PTX
/// load's, with the JIT log, as without the cubin cache.
Status loadThroughCubinCache(const CubinCache *cache, const CubinKey &key,
                             const ModuleLoadSteps &steps, CubinOutcome &out);

} // namespace sattn

#endif // SATTN_RUNTIME_CUBINCACHE_H
