//===- NpyFile.cpp - float32 .npy files for sattn-accuracy ----------------===//

#include "tools/sattn-accuracy/NpyFile.h"

#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace sattn {

namespace {

std::string describeDtype(const std::string &descr) {
  if (descr == "<f8")
    return "'<f8' (float64)";
  if (descr == "<f2")
    return "'<f2' (float16)";
  if (descr == ">f4")
    return "'>f4' (big-endian float32)";
  return "'" + descr + "'";
}

} // namespace

std::optional<NpyArray> readNpyFloat32(const std::string &path,
                                       std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return std::nullopt;
  }
  in.seekg(0, std::ios::end);
  int64_t fileSize = int64_t(in.tellg());
  in.seekg(0);

  // Magic "\x93NUMPY", version, little-endian header length.
  unsigned char prefix[10] = {};
  in.read(reinterpret_cast<char *>(prefix), 8);
  if (!in || std::memcmp(prefix, "\x93NUMPY", 6) != 0) {
    error = "is not a .npy file (it does not start with \\x93NUMPY)";
    return std::nullopt;
  }
  int major = prefix[6], minor = prefix[7];
  int64_t lengthBytes = major == 1 ? 2 : (major == 2 || major == 3) ? 4 : 0;
  if (lengthBytes == 0 || minor != 0) {
    error = "has .npy format version " + std::to_string(major) + "." +
            std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)";
    return std::nullopt;
  }
  in.read(reinterpret_cast<char *>(prefix + 8), std::streamsize(lengthBytes));
  int64_t headerLength = 0;
  for (int64_t i = lengthBytes - 1; i >= 0; --i)
    headerLength = headerLength * 256 + prefix[8 + i];
  int64_t dataOffset = 8 + lengthBytes + headerLength;
  if (!in || headerLength == 0 || dataOffset > fileSize) {
    error = "is truncated inside its header";
    return std::nullopt;
  }
  std::string header(size_t(headerLength), '\0');
  in.read(header.data(), std::streamsize(headerLength));

  std::string descr;
  bool fortranOrder = false;
  std::vector<size_t> shape;
  try {
    xt::detail::parse_header(header, descr, &fortranOrder, shape);
  } catch (const std::exception &e) {
    error = std::string("has a malformed header: ") + e.what();
    return std::nullopt;
  }
  if (descr != "<f4") {
    error = "has dtype " + describeDtype(descr) +
            "; sattn-accuracy reads float32 ('<f4'): save x.astype(np.float32)";
    return std::nullopt;
  }
  if (fortranOrder) {
    error = "is in Fortran (column-major) order; save a C-order array "
            "(np.ascontiguousarray(x))";
    return std::nullopt;
  }
  NpyArray array;
  int64_t elements = 1;
  int64_t present = fileSize - dataOffset;
  for (size_t extent : shape) {
    array.shape.push_back(int64_t(extent));
    // A header may claim any size: stop before the count overflows.
    if (extent && elements > present / int64_t(extent)) {
      error = "is truncated: its header describes more data than the file "
              "holds (" +
              std::to_string(present) + " bytes)";
      return std::nullopt;
    }
    elements *= int64_t(extent);
  }
  int64_t dataBytes = elements * 4;
  if (present < dataBytes) {
    error = "is truncated: its header describes " + std::to_string(dataBytes) +
            " bytes of data, the file holds " + std::to_string(present);
    return std::nullopt;
  }
  if (present > dataBytes) {
    error = "has " + std::to_string(present - dataBytes) +
            " bytes after the data its header describes";
    return std::nullopt;
  }
  array.data.resize(size_t(elements));
  in.read(reinterpret_cast<char *>(array.data.data()),
          std::streamsize(dataBytes));
  if (!in) {
    error = "cannot be read to the end";
    return std::nullopt;
  }
  return array;
}

bool writeNpyFloat32(const std::string &path, const NpyArray &array,
                     std::string &error) {
  std::vector<size_t> shape(array.shape.begin(), array.shape.end());
  try {
    std::string bytes = xt::dump_npy(xt::adapt(
        array.data.data(), array.data.size(), xt::no_ownership(), shape));
    std::ofstream out(path, std::ios::binary);
    if (!out)
      throw std::runtime_error(std::string("cannot create: ") +
                               std::strerror(errno));
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.close();
    if (!out)
      throw std::runtime_error("cannot write");
  } catch (const std::exception &e) {
    error = e.what();
    return false;
  }
  return true;
}

} // namespace sattn
