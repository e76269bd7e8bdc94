//===- Files.h - Small file-system pieces of the caches ---------*- C++ -*-===//
//
// What the kernel cache and the tuning DB share: a hash for names and
// checksums, mkdir -p, atomic replacement of a file (temporary file in the
// same folder, fsync, rename: readers see the old or the new contents,
// never half), and an advisory lock for read-modify-write of one file by
// several processes. Plain POSIX; errors come back as messages.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_FILES_H
#define SATTN_RUNTIME_FILES_H

#include <cstdint>
#include <string>

namespace sattn {

constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ull;

/// 64-bit FNV-1a of `text`, continuing from `basis`.
uint64_t fnv1a(const std::string &text, uint64_t basis = kFnvBasis);
/// 16 lowercase hex digits.
std::string hex64(uint64_t value);
/// 32 hex digits: two FNV-1a hashes of `text` from different bases (what
/// names a cache file after its key).
std::string digest128(const std::string &text);

/// mkdir -p, each level 0755; false with `error` set when `path` cannot be
/// made a folder.
bool makeFolders(const std::string &path, std::string *error);

/// The folder part of `path` ("." when there is none).
std::string folderOf(const std::string &path);

/// Replaces `path` with `data` atomically. On failure (folder not writable,
/// disk full) returns false with `error` set and leaves no file behind.
bool writeFileAtomically(const std::string &path, const std::string &data,
                         std::string *error);

/// Reads all of `path` (at most `maxBytes`); false with `error` set.
bool readWholeFile(const std::string &path, std::string &text,
                   std::string *error, size_t maxBytes = size_t(256) << 20);

/// An exclusive advisory lock (flock) on `path` + ".lock", held while the
/// object lives. `ok()` is false, with `error()` set, when it could not be
/// taken.
class FileLock {
public:
  explicit FileLock(const std::string &path);
  ~FileLock();
  FileLock(const FileLock &) = delete;
  FileLock &operator=(const FileLock &) = delete;
  bool ok() const { return fd_ >= 0; }
  const std::string &error() const { return error_; }

private:
  int fd_ = -1;
  std::string error_;
};

} // namespace sattn

#endif // SATTN_RUNTIME_FILES_H
