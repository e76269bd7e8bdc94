//===- CacheFile.cpp - One checksummed file of a cache --------------------===//

#include "runtime/CacheFile.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace sattn {
namespace {

/// Entries are a few MB at most; anything larger is not ours.
constexpr size_t kMaxPartBytes = size_t(256) << 20;

} // namespace

std::string formatCacheFile(const std::string &magic, const CacheFile &file) {
  nlohmann::ordered_json header = {{"key", file.key}};
  size_t total = 0;
  for (const auto &[name, bytes] : file.parts) {
    header[name + "_bytes"] = bytes.size();
    total += bytes.size();
  }
  header["checksum"] = file.checksum;
  std::string data = magic + "\n" + header.dump() + "\n";
  data.reserve(data.size() + total);
  for (const auto &part : file.parts)
    data += part.second;
  return data;
}

CacheFileRead readCacheFile(const std::string &path, const std::string &magic,
                            const std::vector<std::string> &partNames,
                            CacheFile &out, std::string *what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return CacheFileRead::Missing;
  auto damaged = [&](const char *how) {
    *what = how;
    return CacheFileRead::Damaged;
  };
  std::string magicLine, headerLine;
  if (!std::getline(in, magicLine) || magicLine != magic)
    return damaged("not a sattn cache entry (bad header)");
  if (!std::getline(in, headerLine))
    return damaged("truncated header");
  nlohmann::json header =
      nlohmann::json::parse(headerLine, nullptr, /*allow_exceptions=*/false);
  auto has = [&](const std::string &field, bool isString) {
    return header.contains(field) &&
           (isString ? header[field].is_string()
                     : header[field].is_number_unsigned());
  };
  if (header.is_discarded() || !header.is_object() || !has("key", true) ||
      !has("checksum", true))
    return damaged("unreadable header");
  for (const std::string &name : partNames)
    if (!has(name + "_bytes", false))
      return damaged("unreadable header");
  out = CacheFile();
  out.key = header["key"].get<std::string>();
  out.checksum = header["checksum"].get<std::string>();
  for (const std::string &name : partNames) {
    size_t bytes = header[name + "_bytes"].get<size_t>();
    if (bytes > kMaxPartBytes)
      return damaged("impossible sizes");
    out.parts.emplace_back(name, std::string(bytes, '\0'));
  }
  for (auto &part : out.parts)
    in.read(part.second.data(), std::streamsize(part.second.size()));
  if (!in || in.peek() != std::char_traits<char>::eof())
    return damaged("truncated or overlong entry");
  return CacheFileRead::Read;
}

} // namespace sattn
