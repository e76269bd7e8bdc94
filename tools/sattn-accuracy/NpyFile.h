//===- NpyFile.h - float32 .npy files for sattn-accuracy --------*- C++ -*-===//
//
// q, k and v come as NumPy `.npy` files (np.save of a float32 [B, H, S, D]
// array). The header's Python-dict text is parsed by xtensor's xnpy (Debian's
// libxtensor-dev); the fixed-size prefix and the data are read here, so that
// a wrong dtype, Fortran order, a truncated file or trailing bytes are each
// reported as what they are instead of read as garbage. xnpy throws, so
// NpyFile.cpp is compiled with exceptions and none leaves it.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_TOOLS_SATTN_ACCURACY_NPYFILE_H
#define SATTN_TOOLS_SATTN_ACCURACY_NPYFILE_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sattn {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data; // C order
};

/// Reads a little-endian float32, C-order array. On failure returns nothing
/// and sets `error` to what is wrong with the file (without its name).
std::optional<NpyArray> readNpyFloat32(const std::string &path,
                                       std::string &error);

/// Writes `array` as a version 1.0 .npy file; false with `error` set on
/// failure.
bool writeNpyFloat32(const std::string &path, const NpyArray &array,
                     std::string &error);

} // namespace sattn

#endif // SATTN_TOOLS_SATTN_ACCURACY_NPYFILE_H
