//===- KernelCache.cpp - Compiled kernels on disk, keyed exactly ----------===//

#include "runtime/KernelCache.h"

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

uint64_t fnv1a(const std::string &text, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", (unsigned long long)value);
  return text;
}

std::string checksum(const CacheEntry &entry) {
  return hex(fnv1a(entry.manifest, fnv1a(entry.ptx, 0xcbf29ce484222325ull)));
}

/// mkdir -p, each level 0755.
bool makeFolders(const std::string &path, std::string *error) {
  std::string partial;
  std::stringstream parts(path);
  std::string part;
  if (!path.empty() && path[0] == '/')
    partial = "/";
  while (std::getline(parts, part, '/')) {
    if (part.empty())
      continue;
    partial += part + "/";
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      *error = "cannot create " + partial + ": " + std::strerror(errno);
      return false;
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = path + " is not a folder";
    return false;
  }
  return true;
}

bool writeAll(int fd, const std::string &data) {
  const char *p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    left -= size_t(n);
  }
  return true;
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
  return hex(fnv1a(t, 0xcbf29ce484222325ull)) +
         hex(fnv1a(t, 0x84222325cbf29ce4ull));
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
  std::string temp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    *error = "cannot write the kernel cache in " + folder_ + ": " +
             std::strerror(errno);
    return false;
  }
  bool written = writeAll(fd, data) && ::fsync(fd) == 0;
  int savedErrno = errno;
  written = (::close(fd) == 0) && written;
  if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
    if (!written)
      errno = savedErrno;
    *error = "cannot write the kernel cache entry " + path + ": " +
             std::strerror(errno ? errno : EIO);
    ::unlink(temp.c_str());
    return false;
  }
  return true;
}

} // namespace sattn
