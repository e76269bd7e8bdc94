//===- Sweep.cpp - Accuracy against dense over kept × bins ----------------===//

#include "compiler/reference/Sweep.h"
#include "compiler/reference/Attention.h"
#include "compiler/reference/Metrics.h"
#include "compiler/reference/Oracle.h"
#include "compiler/reference/Parallel.h"
#include "compiler/reference/Pipeline.h"
#include "compiler/reference/Pool.h"
#include "compiler/reference/Reorder.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>

namespace sattn::ref {

namespace {

/// Thread-safe progress, at most one report per percent.
class ProgressMeter {
public:
  ProgressMeter(const SweepProgress &report, std::string what, int64_t total)
      : report(report), what(std::move(what)), total(total) {}
  void advance(int64_t n = 1) {
    int64_t now = done += n;
    if (!report)
      return;
    int64_t percent = now * 100 / std::max<int64_t>(1, total);
    std::lock_guard<std::mutex> lock(mutex);
    if (percent > lastPercent) {
      lastPercent = percent;
      report(double(now) / double(total), what);
    }
  }

private:
  const SweepProgress &report;
  std::string what;
  int64_t total;
  std::atomic<int64_t> done{0};
  int64_t lastPercent = -1;
  std::mutex mutex;
};

/// Per-(b, h) error sums of one setting, summed in a fixed order at the end
/// so that the result does not depend on the thread count.
struct ErrorSums {
  double squared = 0, recall = 0;
};

} // namespace

std::vector<SweepPoint> sweepOracle(const Tensor &q, const Tensor &k,
                                    const Tensor &v, double scale,
                                    const std::vector<double> &keptList,
                                    const std::vector<int64_t> &binsList,
                                    TailMode mode,
                                    const SweepProgress &progress) {
  int64_t b = q.dim(0), h = q.dim(1), s = q.dim(2), d = q.dim(3);
  int64_t keys = k.dim(2);
  size_t settings = keptList.size() * binsList.size();
  constexpr int64_t chunk = 32;
  int64_t chunks = numTiles(s, chunk);
  // sums[work][setting], plus Σ o_dense² per work item.
  std::vector<std::vector<ErrorSums>> sums(size_t(b * h * chunks),
                                           std::vector<ErrorSums>(settings));
  std::vector<double> denseNorm(size_t(b * h * chunks), 0.0);
  ProgressMeter meter(progress, "oracle top-k", b * h * s);

  parallelFor(b * h * chunks, [&](int64_t work) {
    int64_t ib = work / (h * chunks), ih = work / chunks % h;
    int64_t c = work % chunks;
    std::vector<double> logits(keys);
    // Prefix sums over the keys in ranking order: of the logits, of the
    // values, of exp(z − max) and of exp(z − max) · v.
    std::vector<double> prefixZ(keys + 1), prefixW(keys + 1);
    std::vector<double> prefixV(size_t((keys + 1) * d));
    std::vector<double> prefixWV(size_t((keys + 1) * d));
    std::vector<double> dense(d), out(d);
    for (int64_t t = c * chunk; t < std::min(s, (c + 1) * chunk); ++t) {
      const double *query = q.row(ib, ih, t);
      for (int64_t j = 0; j < keys; ++j)
        logits[size_t(j)] = dot(query, k.row(ib, ih, j), d) * scale;
      std::vector<int64_t> ranking = oracleRanking(logits);
      double m = logits[size_t(ranking[0])];
      for (int64_t r = 0; r < keys; ++r) {
        double z = logits[size_t(ranking[size_t(r)])];
        double w = std::exp(z - m);
        const double *value = v.row(ib, ih, ranking[size_t(r)]);
        prefixZ[size_t(r + 1)] = prefixZ[size_t(r)] + z;
        prefixW[size_t(r + 1)] = prefixW[size_t(r)] + w;
        for (int64_t e = 0; e < d; ++e) {
          prefixV[size_t((r + 1) * d + e)] = prefixV[size_t(r * d + e)] + value[e];
          prefixWV[size_t((r + 1) * d + e)] =
              prefixWV[size_t(r * d + e)] + w * value[e];
        }
      }
      double total = prefixW[size_t(keys)];
      for (int64_t e = 0; e < d; ++e) {
        dense[size_t(e)] = prefixWV[size_t(keys * d + e)] / total;
        denseNorm[size_t(work)] += dense[size_t(e)] * dense[size_t(e)];
      }

      size_t setting = 0;
      for (double keptFraction : keptList) {
        int64_t kept = oracleKeptKeys(keptFraction, keys);
        for (int64_t binCount : binsList) {
          // The kept keys' terms, then one virtual key per bin of the
          // dropped keys (means from the prefix sums: q · k̄ = mean(q · k)).
          double den = prefixW[size_t(kept)];
          for (int64_t e = 0; e < d; ++e)
            out[size_t(e)] = prefixWV[size_t(kept * d + e)];
          int64_t dropped = keys - kept;
          int64_t bins = std::min(binCount, dropped);
          for (int64_t bin = 0, first = kept; bin < bins; ++bin) {
            int64_t count = dropped / bins + (bin < dropped % bins ? 1 : 0);
            int64_t last = first + count;
            double meanZ =
                (prefixZ[size_t(last)] - prefixZ[size_t(first)]) / double(count);
            double w = std::exp(meanZ + std::log(double(count)) - m);
            den += w;
            if (mode == TailMode::Full)
              for (int64_t e = 0; e < d; ++e)
                out[size_t(e)] += w *
                                  (prefixV[size_t(last * d + e)] -
                                   prefixV[size_t(first * d + e)]) /
                                  double(count);
            first = last;
          }
          ErrorSums &acc = sums[size_t(work)][setting++];
          for (int64_t e = 0; e < d; ++e) {
            double diff = out[size_t(e)] / den - dense[size_t(e)];
            acc.squared += diff * diff;
          }
          acc.recall += prefixW[size_t(kept)] / total;
        }
      }
      meter.advance();
    }
  });

  std::vector<SweepPoint> points;
  size_t setting = 0;
  double norm = 0;
  for (double n : denseNorm)
    norm += n;
  for (double keptFraction : keptList)
    for (int64_t bins : binsList) {
      SweepPoint point;
      point.kept = keptFraction;
      point.bins = bins;
      point.mode = mode;
      point.density =
          double(oracleKeptKeys(keptFraction, keys)) / double(keys);
      double squared = 0;
      for (int64_t bh = 0; bh < b * h; ++bh) {
        double headSquared = 0, headRecallSum = 0;
        for (int64_t c = 0; c < chunks; ++c) {
          headSquared += sums[size_t(bh * chunks + c)][setting].squared;
          headRecallSum += sums[size_t(bh * chunks + c)][setting].recall;
        }
        squared += headSquared;
        point.headRecall.push_back(headRecallSum / double(s));
        point.headDensity.push_back(point.density);
      }
      point.mse = squared / double(b * h * s * d);
      point.relL2 = norm > 0 ? std::sqrt(squared / norm) : std::sqrt(squared);
      for (double r : point.headRecall)
        point.recall += r / double(point.headRecall.size());
      points.push_back(std::move(point));
      ++setting;
    }
  return points;
}

std::vector<SweepPoint> sweepBlocks(const VariantParams &variant,
                                    const Tensor &q, const Tensor &k,
                                    const Tensor &v,
                                    const std::vector<double> &keptList,
                                    const std::vector<int64_t> &binsList,
                                    TailMode mode,
                                    const SweepProgress &progress) {
  double scale = variant.problem.softmaxScale();
  std::vector<double> densities = keptList;
  VariantParams base = variant;
  if (densities.empty())
    densities.push_back(variant.selection.density);
  else
    base.adaptive.enabled = false;
  std::vector<int64_t> binCounts = binsList;
  if (binCounts.empty())
    binCounts.push_back(variant.tail.bins);

  ProgressMeter meter(progress, "block pipeline " + variant.name,
                      int64_t(densities.size() * (binCounts.size() + 1)) + 1);
  Tensor denseLse;
  Tensor dense = denseAttention(q, k, v, scale, &denseLse);
  meter.advance();
  std::vector<int64_t> order = tokenOrder(variant.problem, variant.reorder);
  Tensor qR = reorder(q, order), kR = reorder(k, order), vR = reorder(v, order);
  Tensor denseLseR = reorder(denseLse, order);

  std::vector<SweepPoint> points;
  for (double density : densities) {
    auto mask = std::make_shared<const Mask>(
        computeMask(base, qR, kR, density));
    const BlockLists &lists = mask->lists();
    Tensor keptLse;
    Tensor sparse = sparseAttention(qR, kR, vR, lists, nullptr, scale, &keptLse);
    meter.advance();
    for (int64_t bins : binCounts) {
      SweepPoint point;
      point.kept = density;
      point.bins = bins;
      point.mode = mode;
      point.headDensity = headDensities(lists);
      point.density = listDensity(lists);
      point.headRecall = headRecall(keptLse, denseLseR);
      point.recall = meanRecall(keptLse, denseLseR);
      Tensor out;
      if (variant.linear.enabled) {
        // Routes mix paths per query; run the plain pipeline.
        VariantParams withBins = base;
        withBins.tail.bins = bins;
        out = runVariant(withBins, q, k, v, density).output;
      } else {
        TailMembership membership =
            assignTailBins(lists, mask->selection.scores(), bins);
        TailBins tail = computeTailBins(kR, vR, lists, membership);
        out = unreorder(
            bins ? addVirtualKeys(sparse, keptLse, qR, lists, tail, scale, mode)
                 : sparse,
            order);
      }
      point.mse = meanSquaredError(out, dense);
      point.relL2 = relativeL2(out, dense);
      points.push_back(std::move(point));
      meter.advance();
    }
  }
  return points;
}

} // namespace sattn::ref
