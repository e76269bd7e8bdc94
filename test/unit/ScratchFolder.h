//===- ScratchFolder.h - Temporary folders for file tests ------*- C++ -*-===//
//
// What the tests of files on disk share (the kernel cache, plans, the tuning
// database): a fresh folder per test, removed with everything in it (write
// permission restored first) when the test ends, and the names in a folder.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_TEST_UNIT_SCRATCHFOLDER_H
#define SATTN_TEST_UNIT_SCRATCHFOLDER_H

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace sattn::test {

/// `<TempDir>/sattn-<kind>-<name>-<pid>`, absent when the test starts and
/// removed when it ends.
struct ScratchFolder {
  ScratchFolder(const std::string &kind, const std::string &name)
      : path(::testing::TempDir() + "/sattn-" + kind + "-" + name + "-" +
             std::to_string(::getpid())) {
    remove();
  }
  ~ScratchFolder() { remove(); }
  ScratchFolder(const ScratchFolder &) = delete;
  ScratchFolder &operator=(const ScratchFolder &) = delete;
  void remove() {
    std::string command =
        "chmod -R u+w '" + path + "' 2>/dev/null; rm -rf '" + path + "'";
    EXPECT_EQ(std::system(command.c_str()), 0);
  }
  const std::string path;
};

/// The names in `folder` (no dot files), sorted; none if it does not exist.
inline std::vector<std::string> filesIn(const std::string &folder) {
  std::vector<std::string> names;
  if (DIR *dir = ::opendir(folder.c_str())) {
    while (dirent *e = ::readdir(dir))
      if (e->d_name[0] != '.')
        names.push_back(e->d_name);
    ::closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

} // namespace sattn::test

#endif // SATTN_TEST_UNIT_SCRATCHFOLDER_H
