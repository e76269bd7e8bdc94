//===- KernelCache.cpp - Compiled kernels on disk, keyed exactly ----------===//

#include "runtime/KernelCache.h"

#include "runtime/CacheFile.h"
#include "runtime/Files.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>

namespace sattn {
namespace {

constexpr const char *kMagic = "sattn-kernel-cache 1";
/// Over the PTX, then the manifest (the PTX's own hash is the first half of
/// the work, and the cubin cache's key).
std::string checksum(const CacheEntry &entry) {
  return hex64(fnv1a(entry.manifest, entry.ptxHash));
}

} // namespace

std::string CacheKey::text() const {
  nlohmann::ordered_json key = {{"variant", variant},
                                {"tuning", tuning},
                                {"arch", arch},
                                {"driver", driverVersion},
                                {"compiler", compiler}};
  return key.dump();
}

std::string CacheKey::digest() const { return digest128(text()); }

std::string defaultCacheFolder() {
  if (const char *dir = std::getenv("SATTN_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/sattn";
  const char *home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/sattn";
}

KernelCache::KernelCache(std::string folder)
    : folder_(folder.empty() ? defaultCacheFolder() : std::move(folder)) {}

std::string KernelCache::pathFor(const CacheKey &key) const {
  return folder_ + "/" + key.digest() + ".sattn";
}

std::optional<CacheEntry> KernelCache::load(const CacheKey &key,
                                            std::string *problem) const {
  std::string path = pathFor(key);
  CacheFile file;
  std::string what;
  auto corrupt = [&](const std::string &how) -> std::optional<CacheEntry> {
    if (problem)
      *problem = path + ": " + how + "; removed, the kernels are rebuilt";
    std::remove(path.c_str());
    return std::nullopt;
  };
  switch (readCacheFile(path, kMagic, {"ptx", "manifest"}, file, &what)) {
  case CacheFileRead::Missing:
    return std::nullopt;
  case CacheFileRead::Damaged:
    return corrupt(what);
  case CacheFileRead::Read:
    break;
  }
  // Same digest, other key: a hash collision. Not ours to remove.
  if (file.key != key.text())
    return std::nullopt;
  CacheEntry entry;
  entry.ptx = std::move(file.parts[0].second);
  entry.manifest = std::move(file.parts[1].second);
  entry.ptxHash = fnv1a(entry.ptx);
  if (checksum(entry) != file.checksum)
    return corrupt("checksum mismatch");
  return entry;
}

bool KernelCache::store(const CacheKey &key, const CacheEntry &entry,
                        std::string *error) const {
  std::string why;
  if (!makeFolders(folder_, &why)) {
    *error = "cannot write the kernel cache: " + why;
    return false;
  }
  CacheEntry hashed = entry;
  hashed.ptxHash = fnv1a(entry.ptx);
  CacheFile file{key.text(),
                 checksum(hashed),
                 {{"ptx", entry.ptx}, {"manifest", entry.manifest}}};
  if (!writeFileAtomically(pathFor(key), formatCacheFile(kMagic, file), &why)) {
    *error = "cannot write the kernel cache entry: " + why;
    return false;
  }
  return true;
}

void reportCacheProblemOnce(const std::string &problem) {
  static std::mutex mutex;
  static std::set<std::string> reported;
  std::lock_guard<std::mutex> lock(mutex);
  if (reported.insert(problem).second)
    std::fprintf(stderr, "sattn: warning: kernel cache: %s\n", problem.c_str());
}

} // namespace sattn
