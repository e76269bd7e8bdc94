//===- HilbertCurve.cpp - 2D and 3D Hilbert curves ------------------------===//

#include "compiler/reference/HilbertCurve.h"

#include <cstdlib>

namespace sattn::ref {

namespace {

int64_t sign(int64_t v) { return (v > 0) - (v < 0); }

/// Python's `a // 2` (floor division): gilbert's recursion halves negative
/// extents too, and rounding them toward zero instead breaks the curve.
int64_t floorHalf(int64_t a) { return a >= 0 ? a / 2 : -((-a + 1) / 2); }

using Cells = std::vector<std::pair<int64_t, int64_t>>;

/// gilbert's generate2d: fills the parallelogram at (x, y) spanned by the
/// major axis (ax, ay) and the minor axis (bx, by).
void generate2d(int64_t x, int64_t y, int64_t ax, int64_t ay, int64_t bx,
                int64_t by, Cells &out) {
  int64_t w = std::abs(ax + ay), h = std::abs(bx + by);
  int64_t dax = sign(ax), day = sign(ay); // unit major direction
  int64_t dbx = sign(bx), dby = sign(by); // unit minor direction

  if (h == 1) { // a single row
    for (int64_t i = 0; i < w; ++i, x += dax, y += day)
      out.emplace_back(x, y);
    return;
  }
  if (w == 1) { // a single column
    for (int64_t i = 0; i < h; ++i, x += dbx, y += dby)
      out.emplace_back(x, y);
    return;
  }

  int64_t ax2 = floorHalf(ax), ay2 = floorHalf(ay);
  int64_t bx2 = floorHalf(bx), by2 = floorHalf(by);
  int64_t w2 = std::abs(ax2 + ay2), h2 = std::abs(bx2 + by2);

  if (2 * w > 3 * h) {
    // Long case: split the major axis in two halves, an even first half
    // where possible (odd halves force diagonal steps further down).
    if ((w2 % 2) && w > 2) {
      ax2 += dax;
      ay2 += day;
    }
    generate2d(x, y, ax2, ay2, bx, by, out);
    generate2d(x + ax2, y + ay2, ax - ax2, ay - ay2, bx, by, out);
    return;
  }
  // Standard case: up along the minor axis, across, and back down.
  if ((h2 % 2) && h > 2) {
    bx2 += dbx;
    by2 += dby;
  }
  generate2d(x, y, bx2, by2, ax2, ay2, out);
  generate2d(x + bx2, y + by2, ax, ay, bx - bx2, by - by2, out);
  generate2d(x + (ax - dax) + (bx2 - dbx), y + (ay - day) + (by2 - dby), -bx2,
             -by2, -(ax - ax2), -(ay - ay2), out);
}

} // namespace

std::vector<std::pair<int64_t, int64_t>> gilbertCurve(int64_t width,
                                                      int64_t height) {
  Cells out;
  if (width <= 0 || height <= 0)
    return out;
  out.reserve(size_t(width * height));
  if (width >= height)
    generate2d(0, 0, width, 0, 0, height, out);
  else
    generate2d(0, 0, 0, height, width, 0, out);
  return out;
}

uint64_t hilbertIndex3d(std::array<uint32_t, 3> x, int bits) {
  constexpr int n = 3;
  uint32_t m = uint32_t(1) << (bits - 1);
  // Inverse undo: reflect or swap the low bits, level by level.
  for (uint32_t q = m; q > 1; q >>= 1) {
    uint32_t p = q - 1;
    for (int i = 0; i < n; ++i) {
      if (x[i] & q) {
        x[0] ^= p;
      } else {
        uint32_t t = (x[0] ^ x[i]) & p;
        x[0] ^= t;
        x[i] ^= t;
      }
    }
  }
  // Gray encode.
  for (int i = 1; i < n; ++i)
    x[i] ^= x[i - 1];
  uint32_t t = 0;
  for (uint32_t q = m; q > 1; q >>= 1)
    if (x[n - 1] & q)
      t ^= q - 1;
  for (int i = 0; i < n; ++i)
    x[i] ^= t;
  // The "transpose" holds the index bit-interleaved.
  uint64_t index = 0;
  for (int bit = bits - 1; bit >= 0; --bit)
    for (int i = 0; i < n; ++i)
      index = (index << 1) | ((x[i] >> bit) & 1);
  return index;
}

int bitsFor(int64_t extent) {
  int bits = 1;
  while ((int64_t(1) << bits) < extent)
    ++bits;
  return bits;
}

} // namespace sattn::ref
