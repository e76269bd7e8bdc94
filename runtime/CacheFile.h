//===- CacheFile.h - One checksummed file of a cache ------------*- C++ -*-===//
//
// The envelope the kernel cache and the cubin cache share: a line naming
// the format, a JSON line with the full key, one "<part>_bytes" per part
// and a checksum, then the parts back to back. The callers own the key
// comparison and the checksum (what it covers is theirs); this file reads
// and writes the envelope and says when it is damaged (bad header,
// impossible sizes, truncated or overlong) so that a damaged file is
// detected the same way in both caches.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_CACHEFILE_H
#define SATTN_RUNTIME_CACHEFILE_H

#include <string>
#include <utility>
#include <vector>

namespace sattn {

struct CacheFile {
  std::string key;      // the full key text
  std::string checksum; // as the caller computes it
  /// (name, bytes), in file order.
  std::vector<std::pair<std::string, std::string>> parts;
};

/// The file's bytes: magic line, header line, parts.
std::string formatCacheFile(const std::string &magic, const CacheFile &file);

enum class CacheFileRead {
  Missing, // no such file (a plain miss)
  Damaged, // `what` says how; the caller removes it
  Read,
};

/// Reads `path` into `out`, expecting the parts `partNames` in this order.
CacheFileRead readCacheFile(const std::string &path, const std::string &magic,
                            const std::vector<std::string> &partNames,
                            CacheFile &out, std::string *what);

} // namespace sattn

#endif // SATTN_RUNTIME_CACHEFILE_H
