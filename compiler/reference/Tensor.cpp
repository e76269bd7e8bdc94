//===- Tensor.cpp - Dense float64 tensors of the reference ----------------===//

#include "compiler/reference/Tensor.h"

#include <cstddef>

namespace sattn::ref {

Tensor::Tensor(std::vector<int64_t> shapeIn, double fill)
    : shape(std::move(shapeIn)) {
  int64_t n = 1;
  for (int64_t extent : shape)
    n *= extent;
  data.assign(size_t(n), fill);
}

double dot(const double *a, const double *b, int64_t d) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= d; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < d; ++i)
    s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

} // namespace sattn::ref
