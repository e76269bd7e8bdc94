//===- ReferenceTestSupport.h - Shapes and naive oracles --------*- C++ -*-===//
//
// What the reference property tests share: the shapes of issue 4 (from a
// single token to Wan2.1-480p's 21 × 30 × 52 latent, with and without text
// tokens first or last), seeded random tensors, and a deliberately naive
// masked softmax attention (an explicit key mask, no index lists, no
// merging) that the reference's index-list code is compared with.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_TEST_UNIT_REFERENCETESTSUPPORT_H
#define SATTN_TEST_UNIT_REFERENCETESTSUPPORT_H

#include "compiler/reference/Tensor.h"
#include "dialect/VariantParams.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace sattn::ref::testing {

struct Shape {
  std::vector<int64_t> grid;
  int64_t text = 0;
  TextPosition position = TextPosition::Last;

  std::string str() const {
    std::string s = std::to_string(grid[0]) + "x" + std::to_string(grid[1]) +
                    "x" + std::to_string(grid[2]);
    if (text)
      s += std::string("+") + std::to_string(text) +
           (position == TextPosition::First ? " text first" : " text last");
    return s;
  }
  int64_t seqLen() const { return grid[0] * grid[1] * grid[2] + text; }
  bool big() const { return seqLen() > 4096; }
};

/// Every grid of issue 4 plus a few odd ones, each without text, with text
/// first and with text last.
inline std::vector<Shape> allShapes() {
  std::vector<std::vector<int64_t>> grids = {
      {1, 1, 1}, {1, 7, 3}, {2, 5, 8}, {5, 9, 11}, {3, 12, 10}, {21, 30, 52}};
  std::vector<Shape> shapes;
  for (const auto &grid : grids) {
    shapes.push_back({grid, 0, TextPosition::Last});
    shapes.push_back({grid, 7, TextPosition::First});
    shapes.push_back({grid, 13, TextPosition::Last});
  }
  return shapes;
}

/// The shapes small enough for full attention comparisons.
inline std::vector<Shape> smallShapes() {
  std::vector<Shape> shapes;
  for (const Shape &s : allShapes())
    if (!s.big())
      shapes.push_back(s);
  return shapes;
}

inline ProblemParams problemFor(const Shape &shape, int64_t heads = 2,
                                int64_t headDim = 8, int64_t batch = 1) {
  ProblemParams p;
  p.batch = batch;
  p.heads = heads;
  p.headDim = headDim;
  p.grid = shape.grid;
  p.textTokens = shape.text;
  p.textPosition = shape.position;
  return p;
}

/// Entries uniform in [-spread, spread], from `seed`.
inline Tensor randomTensor(std::vector<int64_t> shape, uint64_t seed,
                           double spread = 1.0) {
  Tensor t(std::move(shape));
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(-spread, spread);
  for (double &x : t.data)
    x = dist(gen);
  return t;
}

/// A reorder for every kind, with and without tiles (partial edge tiles
/// included for all but the smallest grids).
inline std::vector<ReorderParams> allReorders() {
  return {
      {ReorderKind::Identity, {1, 1, 1}},  {ReorderKind::Tile, {1, 1, 1}},
      {ReorderKind::Tile, {2, 3, 4}},      {ReorderKind::Tile, {4, 4, 4}},
      {ReorderKind::Hilbert2D, {1, 1, 1}}, {ReorderKind::Hilbert2D, {2, 3, 5}},
      {ReorderKind::Hilbert3D, {1, 1, 1}}, {ReorderKind::Hilbert3D, {2, 4, 4}},
      {ReorderKind::HWF, {1, 1, 1}},       {ReorderKind::FWH, {1, 1, 1}}};
}

inline std::string describe(const ReorderParams &r) {
  return std::string(toString(r.kind)) + " [" + std::to_string(r.tile[0]) +
         "," + std::to_string(r.tile[1]) + "," + std::to_string(r.tile[2]) +
         "]";
}

/// Naive attention of query (b, h, t): softmax over the keys j with
/// keep(j), plus extra (logit, value) terms, with an explicit max.
inline std::vector<double> naiveAttention(
    const Tensor &q, const Tensor &k, const Tensor &v, int64_t b, int64_t h,
    int64_t t, double scale, const std::function<bool(int64_t)> &keep,
    const std::vector<std::pair<double, std::vector<double>>> &extra = {},
    double *lse = nullptr) {
  int64_t d = q.dim(3);
  std::vector<double> logits;
  std::vector<const double *> values;
  for (int64_t j = 0; j < k.dim(2); ++j) {
    if (!keep(j))
      continue;
    double z = 0;
    for (int64_t e = 0; e < d; ++e)
      z += q(b, h, t, e) * k(b, h, j, e);
    logits.push_back(z * scale);
    values.push_back(v.row(b, h, j));
  }
  for (const auto &[z, value] : extra) {
    logits.push_back(z);
    values.push_back(value.data());
  }
  double m = -INFINITY;
  for (double z : logits)
    m = std::max(m, z);
  std::vector<double> out(size_t(d), 0.0);
  double sum = 0;
  for (size_t j = 0; j < logits.size(); ++j) {
    double w = std::exp(logits[j] - m);
    sum += w;
    for (int64_t e = 0; e < d; ++e)
      out[size_t(e)] += w * values[j][e];
  }
  for (double &x : out)
    x /= sum;
  if (lse)
    *lse = m + std::log(sum);
  return out;
}

/// The largest |a − b| over two equally shaped tensors.
inline double maxAbsDiff(const Tensor &a, const Tensor &b) {
  double worst = 0;
  for (int64_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(a.data[size_t(i)] - b.data[size_t(i)]));
  return worst;
}

} // namespace sattn::ref::testing

#endif // SATTN_TEST_UNIT_REFERENCETESTSUPPORT_H
