//===- Reorder.cpp - The token permutation π and its inverse --------------===//

#include "compiler/reference/Reorder.h"
#include "compiler/reference/HilbertCurve.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <numeric>

namespace sattn::ref {

namespace {

struct Coord {
  int64_t t, y, x;
};

/// The tiles of the grid (tile coordinates) in the order of the kind.
std::vector<Coord> tileSequence(ReorderKind kind, int64_t nt, int64_t nh,
                                int64_t nw) {
  std::vector<Coord> tiles;
  tiles.reserve(size_t(nt * nh * nw));
  switch (kind) {
  case ReorderKind::Hilbert2D:
    for (int64_t t = 0; t < nt; ++t)
      for (auto [x, y] : gilbertCurve(nw, nh))
        tiles.push_back({t, y, x});
    break;
  case ReorderKind::Hilbert3D: {
    int bits = bitsFor(std::max({nt, nh, nw}));
    std::vector<std::pair<uint64_t, Coord>> keyed;
    keyed.reserve(size_t(nt * nh * nw));
    for (int64_t t = 0; t < nt; ++t)
      for (int64_t y = 0; y < nh; ++y)
        for (int64_t x = 0; x < nw; ++x)
          keyed.push_back({hilbertIndex3d({uint32_t(t), uint32_t(y),
                                           uint32_t(x)},
                                          bits),
                           {t, y, x}});
    // Curve indices are distinct, so the sort needs no tie rule.
    std::sort(keyed.begin(), keyed.end(),
              [](const auto &a, const auto &b) { return a.first < b.first; });
    for (const auto &entry : keyed)
      tiles.push_back(entry.second);
    break;
  }
  default: // tile: raster order
    for (int64_t t = 0; t < nt; ++t)
      for (int64_t y = 0; y < nh; ++y)
        for (int64_t x = 0; x < nw; ++x)
          tiles.push_back({t, y, x});
    break;
  }
  return tiles;
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Applies `perm` along dim 2: out[.., i, ..] = x[.., src(i), ..].
template <typename Src>
Tensor permuteDim2(const Tensor &x, const std::vector<int64_t> &order,
                   Src src) {
  assert((x.rank() == 3 || x.rank() == 4) && "reorder needs [B, H, S, ...]");
  assert(int64_t(order.size()) == x.dim(2) && "order has the wrong size");
  Tensor out(x.shape);
  int64_t outer = x.dim(0) * x.dim(1), s = x.dim(2);
  int64_t inner = x.rank() == 4 ? x.dim(3) : 1;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < s; ++i) {
      auto [to, from] = src(i);
      std::copy_n(&x.data[(o * s + from) * inner], inner,
                  &out.data[(o * s + to) * inner]);
    }
  return out;
}

} // namespace

std::vector<int64_t> identityOrder(int64_t n) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  return order;
}

std::vector<int64_t> videoOrder(const std::vector<int64_t> &grid,
                                const ReorderParams &reorder) {
  int64_t t = grid[0], h = grid[1], w = grid[2];
  auto index = [&](int64_t ft, int64_t y, int64_t x) {
    return (ft * h + y) * w + x;
  };
  std::vector<int64_t> order;
  order.reserve(size_t(t * h * w));
  switch (reorder.kind) {
  case ReorderKind::Identity:
    return identityOrder(t * h * w);
  case ReorderKind::HWF:
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t ft = 0; ft < t; ++ft)
          order.push_back(index(ft, y, x));
    return order;
  case ReorderKind::FWH:
    for (int64_t ft = 0; ft < t; ++ft)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t y = 0; y < h; ++y)
          order.push_back(index(ft, y, x));
    return order;
  case ReorderKind::Tile:
  case ReorderKind::Hilbert2D:
  case ReorderKind::Hilbert3D:
    break;
  }
  int64_t a = reorder.tile[0], b = reorder.tile[1], c = reorder.tile[2];
  for (Coord tile : tileSequence(reorder.kind, ceilDiv(t, a), ceilDiv(h, b),
                                 ceilDiv(w, c)))
    for (int64_t ft = tile.t * a; ft < std::min(t, (tile.t + 1) * a); ++ft)
      for (int64_t y = tile.y * b; y < std::min(h, (tile.y + 1) * b); ++y)
        for (int64_t x = tile.x * c; x < std::min(w, (tile.x + 1) * c); ++x)
          order.push_back(index(ft, y, x));
  return order;
}

std::vector<int64_t> tokenOrder(const ProblemParams &problem,
                                const ReorderParams &reorder) {
  std::vector<int64_t> order = identityOrder(problem.seqLen());
  int64_t begin = problem.videoBegin();
  std::vector<int64_t> video = videoOrder(problem.grid, reorder);
  for (size_t i = 0; i < video.size(); ++i)
    order[size_t(begin) + i] = begin + video[i];
  return order;
}

Tensor reorder(const Tensor &x, const std::vector<int64_t> &order) {
  return permuteDim2(x, order, [&](int64_t i) {
    return std::pair<int64_t, int64_t>(i, order[size_t(i)]);
  });
}

Tensor unreorder(const Tensor &x, const std::vector<int64_t> &order) {
  return permuteDim2(x, order, [&](int64_t i) {
    return std::pair<int64_t, int64_t>(order[size_t(i)], i);
  });
}

std::vector<int32_t> framesOf(const ProblemParams &problem,
                              const std::vector<int64_t> &order) {
  int64_t begin = problem.videoBegin(), video = problem.videoTokens();
  int64_t frameSize = problem.grid[1] * problem.grid[2];
  std::vector<int32_t> frames(order.size(), -1);
  for (size_t i = 0; i < order.size(); ++i) {
    int64_t v = order[i] - begin;
    if (v >= 0 && v < video)
      frames[i] = int32_t(v / frameSize);
  }
  return frames;
}

} // namespace sattn::ref
