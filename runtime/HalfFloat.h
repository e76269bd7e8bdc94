//===- HalfFloat.h - bf16 and fp16 encodings on the host --------*- C++ -*-===//
//
// The 16-bit formats the kernels take, for code that prepares inputs on the
// host (tests, benchmarks). Conversions round to nearest even; fp16 uses the
// compiler's _Float16 (correctly rounded, subnormals included), bf16 is the
// upper half of a float rounded by hand (there is no bf16 type in GCC 12).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_HALFFLOAT_H
#define SATTN_RUNTIME_HALFFLOAT_H

#include <cstdint>
#include <cstring>

namespace sattn {

inline uint16_t toBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: keep it a quiet NaN
    return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1); // round to nearest even
  return uint16_t(bits >> 16);
}

inline float fromBf16(uint16_t value) {
  uint32_t bits = uint32_t(value) << 16;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

inline uint16_t toFp16(float value) {
  _Float16 half = static_cast<_Float16>(value);
  uint16_t bits;
  std::memcpy(&bits, &half, 2);
  return bits;
}

inline float fromFp16(uint16_t value) {
  _Float16 half;
  std::memcpy(&half, &value, 2);
  return static_cast<float>(half);
}

} // namespace sattn

#endif // SATTN_RUNTIME_HALFFLOAT_H
