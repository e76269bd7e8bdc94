//===- Files.cpp - Small file-system pieces of the caches -----------------===//

#include "runtime/Files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sattn {
namespace {

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

uint64_t fnv1a(const std::string &text, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex64(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", (unsigned long long)value);
  return text;
}

std::string digest128(const std::string &text) {
  return hex64(fnv1a(text)) + hex64(fnv1a(text, 0x84222325cbf29ce4ull));
}

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

std::string folderOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool writeFileAtomically(const std::string &path, const std::string &data,
                         std::string *error) {
  std::string temp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    *error = "cannot write in " + folderOf(path) + ": " + std::strerror(errno);
    return false;
  }
  bool written = writeAll(fd, data) && ::fsync(fd) == 0;
  int savedErrno = errno;
  written = (::close(fd) == 0) && written;
  if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
    if (!written)
      errno = savedErrno;
    *error = "cannot write " + path + ": " + std::strerror(errno ? errno : EIO);
    ::unlink(temp.c_str());
    return false;
  }
  return true;
}

bool readWholeFile(const std::string &path, std::string &text,
                   std::string *error, size_t maxBytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      size_t(st.st_size) > maxBytes) {
    ::close(fd);
    *error = path + ": not a regular file of at most " +
             std::to_string(maxBytes) + " bytes";
    return false;
  }
  text.assign(size_t(st.st_size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += size_t(n);
  }
  ::close(fd);
  if (done != text.size()) {
    *error = "cannot read " + path + ": short read";
    return false;
  }
  return true;
}

FileLock::FileLock(const std::string &path) {
  std::string lockPath = path + ".lock";
  fd_ = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    error_ = "cannot open " + lockPath + ": " + std::strerror(errno);
    return;
  }
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR)
      continue;
    error_ = "cannot lock " + lockPath + ": " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return;
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0)
    ::close(fd_); // releases the lock
}

} // namespace sattn
