//===- KernelCache.cpp - Compiled kernels on disk, keyed exactly ----------===//

#include "runtime/KernelCache.h"

#include "runtime/Files.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace sattn {
namespace {

constexpr const char *kMagic = "sattn-kernel-cache 1";
/// Entries are a few MB at most; anything larger is not ours.
constexpr size_t kMaxEntryBytes = size_t(256) << 20;

std::string checksum(const CacheEntry &entry) {
  return hex64(fnv1a(entry.manifest, fnv1a(entry.ptx)));
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

std::string CacheKey::digest() const {
  std::string t = text();
  return hex64(fnv1a(t)) + hex64(fnv1a(t, 0x84222325cbf29ce4ull));
}

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
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt; // a plain miss
  auto corrupt = [&](const std::string &what) -> std::optional<CacheEntry> {
    if (problem)
      *problem = path + ": " + what + "; removed, the kernels are rebuilt";
    std::remove(path.c_str());
    return std::nullopt;
  };
  std::string magic, headerLine;
  if (!std::getline(in, magic) || magic != kMagic)
    return corrupt("not a sattn cache entry (bad header)");
  if (!std::getline(in, headerLine))
    return corrupt("truncated header");
  nlohmann::json header =
      nlohmann::json::parse(headerLine, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object() || !header.contains("key") ||
      !header["key"].is_string() || !header.contains("ptx_bytes") ||
      !header["ptx_bytes"].is_number_unsigned() ||
      !header.contains("manifest_bytes") ||
      !header["manifest_bytes"].is_number_unsigned() ||
      !header.contains("checksum") || !header["checksum"].is_string())
    return corrupt("unreadable header");
  // Same digest, other key: a hash collision. Not ours to remove.
  if (header["key"].get<std::string>() != key.text())
    return std::nullopt;
  size_t ptxBytes = header["ptx_bytes"].get<size_t>();
  size_t manifestBytes = header["manifest_bytes"].get<size_t>();
  if (ptxBytes > kMaxEntryBytes || manifestBytes > kMaxEntryBytes)
    return corrupt("impossible sizes");
  CacheEntry entry;
  entry.ptx.resize(ptxBytes);
  entry.manifest.resize(manifestBytes);
  in.read(entry.ptx.data(), std::streamsize(ptxBytes));
  in.read(entry.manifest.data(), std::streamsize(manifestBytes));
  if (!in || in.peek() != std::char_traits<char>::eof())
    return corrupt("truncated or overlong entry");
  if (checksum(entry) != header["checksum"].get<std::string>())
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
  nlohmann::ordered_json header = {{"key", key.text()},
                                   {"ptx_bytes", entry.ptx.size()},
                                   {"manifest_bytes", entry.manifest.size()},
                                   {"checksum", checksum(entry)}};
  std::string data = std::string(kMagic) + "\n" + header.dump() + "\n" +
                     entry.ptx + entry.manifest;

  std::string path = pathFor(key);
  if (!writeFileAtomically(path, data, &why)) {
    *error = "cannot write the kernel cache entry: " + why;
    return false;
  }
  return true;
}

} // namespace sattn
