//===- Tensor.h - Dense float64 tensors of the reference --------*- C++ -*-===//
//
// The one container of the float64 reference: a shape and row-major data.
// Attention tensors are [B, H, S, D]; per-query values (log-sum-exp) are
// [B, H, S]; per-row tail bins are [B, H, NQ, bins, D]. Deliberately nothing
// but indexing: the reference is the oracle for the GPU kernels, so what it
// computes must be readable in the functions that compute it.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_TENSOR_H
#define SATTN_COMPILER_REFERENCE_TENSOR_H

#include <cstdint>
#include <vector>

namespace sattn::ref {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape, double fill = 0.0);

  /// Number of elements.
  int64_t size() const { return int64_t(data.size()); }
  int64_t rank() const { return int64_t(shape.size()); }
  int64_t dim(int i) const { return shape[i]; }

  /// Rank-4 access [b, h, s, d].
  double &operator()(int64_t b, int64_t h, int64_t s, int64_t d) {
    return data[((b * shape[1] + h) * shape[2] + s) * shape[3] + d];
  }
  double operator()(int64_t b, int64_t h, int64_t s, int64_t d) const {
    return data[((b * shape[1] + h) * shape[2] + s) * shape[3] + d];
  }
  /// Rank-3 access [b, h, s].
  double &operator()(int64_t b, int64_t h, int64_t s) {
    return data[(b * shape[1] + h) * shape[2] + s];
  }
  double operator()(int64_t b, int64_t h, int64_t s) const {
    return data[(b * shape[1] + h) * shape[2] + s];
  }

  /// The innermost row of a rank-4 tensor at [b, h, s, :] (D contiguous
  /// values), for dot products over the head dimension.
  double *row(int64_t b, int64_t h, int64_t s) {
    return &data[((b * shape[1] + h) * shape[2] + s) * shape[3]];
  }
  const double *row(int64_t b, int64_t h, int64_t s) const {
    return &data[((b * shape[1] + h) * shape[2] + s) * shape[3]];
  }
};

/// q · k over `d` values. Four partial sums, so that the compiler can keep
/// them in vector registers without reassociating (no -ffast-math): the
/// result differs from a left-to-right sum by rounding only.
double dot(const double *a, const double *b, int64_t d);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_TENSOR_H
