//===- HilbertCurve.h - 2D and 3D Hilbert curves ----------------*- C++ -*-===//
//
// The two space-filling curves of the `hilbert2d` and `hilbert3d` token
// orders (SPEC §4.1, DFSAttn): both keep tokens that are close in the video
// close in the sequence, so that a block of consecutive tokens is a compact
// region and block sparsity follows the attention's fine-grained locality.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_HILBERTCURVE_H
#define SATTN_COMPILER_REFERENCE_HILBERTCURVE_H

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace sattn::ref {

/// The cells (x, y) of a width × height rectangle in the order of the
/// generalized Hilbert curve ("gilbert", J. Červený, 2019), for any sides.
/// It starts at (0, 0) and runs along the longer side. Consecutive cells are
/// 4-neighbours, with at most one diagonal step, and that only when the
/// longer side is odd and the shorter one even: then a 4-connected path
/// from the corner (0, 0) cannot end where the curve's recursion needs it
/// (a checkerboard-colour argument), and gilbert takes one diagonal step
/// instead (none when the shorter side is 2, where it ends elsewhere).
std::vector<std::pair<int64_t, int64_t>> gilbertCurve(int64_t width,
                                                      int64_t height);

/// The position of `coords` on the 3D Hilbert curve that fills the cube of
/// side 2^bits (J. Skilling, "Programming the Hilbert curve", AIP Conf.
/// Proc. 707, 2004: the axes-to-transpose transform, then the bits of the
/// three transposed coordinates interleaved, coords[0] most significant).
/// Consecutive positions are face-neighbours in the cube. bits in [1, 21].
uint64_t hilbertIndex3d(std::array<uint32_t, 3> coords, int bits);

/// The smallest `bits` with 2^bits >= extent (at least 1).
int bitsFor(int64_t extent);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_HILBERTCURVE_H
