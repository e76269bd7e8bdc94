//===- CubinCache.cpp - The driver's machine code, kept on disk -----------===//

#include "runtime/CubinCache.h"

#include "runtime/CacheFile.h"
#include "runtime/Files.h"
#include "runtime/KernelCache.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace sattn {
namespace {

constexpr const char *kMagic = "sattn-cubin-cache 1";

std::string checksum(const std::string &cubin) { return hex64(fnv1a(cubin)); }

} // namespace

std::string CubinKey::text() const {
  nlohmann::ordered_json key = {{"ptx", hex64(ptxHash)},
                                {"ptx_bytes", ptxBytes},
                                {"device", device},
                                {"driver", driverVersion}};
  return key.dump();
}

std::string CubinKey::digest() const { return digest128(text()); }

CubinKey cubinKeyFor(const std::string &ptx, std::optional<uint64_t> ptxHash,
                     int major, int minor, int driverVersion) {
  CubinKey key;
  key.ptxHash = ptxHash ? *ptxHash : fnv1a(ptx);
  key.ptxBytes = ptx.size();
  key.device = "sm_" + std::to_string(major) + std::to_string(minor);
  key.driverVersion = driverVersion;
  return key;
}

CubinCache::CubinCache(std::string folder)
    : folder_(folder.empty() ? defaultCacheFolder() : std::move(folder)) {}

std::string CubinCache::pathFor(const CubinKey &key) const {
  return folder_ + "/" + key.digest() + ".cubin";
}

std::optional<std::string> CubinCache::load(const CubinKey &key,
                                            std::string *problem) const {
  std::string path = pathFor(key);
  CacheFile file;
  std::string what;
  auto damaged = [&](const std::string &how) -> std::optional<std::string> {
    if (problem)
      *problem = path + ": " + how + "; removed, the cubin is rebuilt";
    std::remove(path.c_str());
    return std::nullopt;
  };
  switch (readCacheFile(path, kMagic, {"cubin"}, file, &what)) {
  case CacheFileRead::Missing:
    return std::nullopt;
  case CacheFileRead::Damaged:
    return damaged(what);
  case CacheFileRead::Read:
    break;
  }
  if (file.key != key.text())
    return std::nullopt; // a digest collision: another key's file
  std::string &cubin = file.parts[0].second;
  if (checksum(cubin) != file.checksum)
    return damaged("checksum mismatch");
  return std::move(cubin);
}

bool CubinCache::store(const CubinKey &key, const std::string &cubin,
                       std::string *error) const {
  std::string why;
  if (!makeFolders(folder_, &why)) {
    *error = "cannot write the cubin cache: " + why;
    return false;
  }
  CacheFile file{key.text(), checksum(cubin), {{"cubin", cubin}}};
  if (!writeFileAtomically(pathFor(key), formatCacheFile(kMagic, file), &why)) {
    *error = "cannot write the cubin: " + why;
    return false;
  }
  return true;
}

void CubinCache::remove(const CubinKey &key) const {
  std::remove(pathFor(key).c_str());
}

const char *toString(CubinSource source) {
  switch (source) {
  case CubinSource::None:
    return "none";
  case CubinSource::Cached:
    return "cached";
  case CubinSource::Built:
    return "built";
  }
  return "none";
}

bool needsWholeProgramCompile(std::string_view ptx) {
  // The instruction, not a mention in a comment or a symbol name.
  for (size_t at = ptx.find("setmaxnreg."); at != std::string_view::npos;
       at = ptx.find("setmaxnreg.", at + 1)) {
    size_t lineStart = ptx.rfind('\n', at);
    lineStart = lineStart == std::string_view::npos ? 0 : lineStart + 1;
    std::string_view before = ptx.substr(lineStart, at - lineStart);
    if (before.find("//") == std::string_view::npos &&
        before.find_first_not_of(" \t") == std::string_view::npos)
      return true;
  }
  return false;
}

Status loadThroughCubinCache(const CubinCache *cache, const CubinKey &key,
                             const ModuleLoadSteps &steps, CubinOutcome &out) {
  out = CubinOutcome();
  auto note = [&](const std::string &line) {
    out.note += (out.note.empty() ? "" : "; ") + line;
  };
  if (!cache)
    return steps.loadPtx();

  std::string problem;
  if (std::optional<std::string> cubin = cache->load(key, &problem)) {
    Status loaded = steps.loadCubin(*cubin);
    if (loaded.isOk()) {
      out.source = CubinSource::Cached;
      return loaded;
    }
    problem = cache->pathFor(key) + ": the driver refused the cached cubin (" +
              loaded.message() + "); removed, the cubin is rebuilt";
    cache->remove(key);
  }
  if (!problem.empty()) {
    reportCacheProblemOnce(problem);
    note(problem);
  }

  std::string cubin;
  Status built = steps.buildCubin(cubin);
  if (built.isOk()) {
    Status loaded = steps.loadCubin(cubin);
    if (loaded.isOk()) {
      out.source = CubinSource::Built;
      std::string error;
      if (!cache->store(key, cubin, &error))
        note(error + " (the module was built and works; its cubin will be "
                     "built again next time)");
      return loaded;
    }
    built = loaded;
  }
  // The linker or its cubin failed: the PTX as before, whose status (with
  // the JIT log) is the answer if it fails too.
  note("no cubin (" + built.message() + "); the PTX was loaded directly");
  return steps.loadPtx();
}

} // namespace sattn
