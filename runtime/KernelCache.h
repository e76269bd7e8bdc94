//===- KernelCache.h - Compiled kernels on disk, keyed exactly --*- C++ -*-===//
//
// One file per entry under the cache folder ($SATTN_CACHE_DIR, else
// $XDG_CACHE_HOME/sattn, else ~/.cache/sattn): a header line naming the
// format, a JSON line with the full key, the payload sizes and a checksum,
// then the PTX and the manifest.
//
// - The key holds everything that changes the kernels: the normalized
//   variant, the tuned tile parameters, the exact arch string ("sm_90a",
//   never "sm_90"), the driver and the compiler version. Its hash names the
//   file; the full key inside is compared on load, so a hash collision is a
//   miss, never a wrong kernel.
// - Writes go to a unique temporary file in the same folder, are flushed,
//   then renamed over the entry: readers see a whole entry or none, and
//   concurrent writers of the same key all succeed (the last rename wins,
//   with identical contents).
// - A truncated or corrupt entry (bad header, sizes or checksum) is detected
//   on load, reported once per process, removed, and treated as a miss.
//
// Plain C++ (no MLIR, no CUDA): tested on machines without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_KERNELCACHE_H
#define SATTN_RUNTIME_KERNELCACHE_H

#include <cstdint>
#include <optional>
#include <string>

namespace sattn {

struct CacheKey {
  std::string variant; // normalized variant JSON (writeVariantJson, one line)
  std::string tuning;  // tile parameters, e.g. "template=mma key_tile=64 ..."
  std::string arch;    // exact: "sm_80", "sm_90a"
  int driverVersion = 0;
  std::string compiler; // SATTN_COMPILER_VERSION

  /// The whole key as one string (what is compared on load).
  std::string text() const;
  /// Hex digest of text() (two 64-bit FNV-1a hashes): the entry's file name.
  std::string digest() const;
};

struct CacheEntry {
  std::string ptx;
  std::string manifest;
  /// fnv1a(ptx), set by load (it is the first half of the checksum): what
  /// the cubin cache keys the PTX by, without hashing it a second time.
  uint64_t ptxHash = 0;
};

class KernelCache {
public:
  /// The cache in `folder`; empty: the default location (see above).
  explicit KernelCache(std::string folder = "");

  const std::string &folder() const { return folder_; }
  std::string pathFor(const CacheKey &key) const;

  /// The entry for `key`, or nothing (a miss). A corrupt entry is a miss;
  /// `problem` then says what was wrong with it (and it is removed).
  std::optional<CacheEntry> load(const CacheKey &key,
                                 std::string *problem = nullptr) const;

  /// Stores `entry` atomically. On failure (folder not writable, disk full)
  /// returns false with `error` set and leaves no file behind.
  bool store(const CacheKey &key, const CacheEntry &entry,
             std::string *error) const;

private:
  std::string folder_;
};

/// The default cache folder: $SATTN_CACHE_DIR, else $XDG_CACHE_HOME/sattn,
/// else $HOME/.cache/sattn.
std::string defaultCacheFolder();

/// A damaged cache entry (kernel or cubin) is worth one line on stderr,
/// once per problem per process.
void reportCacheProblemOnce(const std::string &problem);

} // namespace sattn

#endif // SATTN_RUNTIME_KERNELCACHE_H
