//===- VariantParams.cpp - Defaults, derived sizes and validation ---------===//

#include "dialect/VariantParams.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <tuple>

namespace sattn {

// Limits that keep every index of the generated kernels in 32 bits and every
// grid dimension within the CUDA limits (y and z are at most 65535).
static constexpr int64_t kMaxTokens = int64_t(1) << 24;
static constexpr int64_t kMaxTextTokens = int64_t(1) << 20;
static constexpr int64_t kMaxGridDim = 65535;
static constexpr int64_t kMaxBins = 64;

int64_t ProblemParams::videoTokens() const {
  int64_t n = 1;
  for (int64_t extent : grid)
    n *= extent;
  return grid.empty() ? 0 : n;
}

double ProblemParams::softmaxScale() const {
  return scale ? *scale : 1.0 / std::sqrt(double(headDim));
}

int64_t VariantParams::numQueryBlocks() const {
  return (problem.seqLen() + block.q - 1) / block.q;
}

int64_t VariantParams::numKeyGroups(int64_t groupSize) const {
  return (problem.seqLen() + groupSize - 1) / groupSize;
}

bool operator==(const VariantParams &a, const VariantParams &b) {
  auto problem = [](const ProblemParams &p) {
    return std::tie(p.batch, p.heads, p.headDim, p.grid, p.textTokens,
                    p.textPosition, p.dtype, p.scale);
  };
  auto scoring = [](const VariantParams &v) {
    return std::make_tuple(v.scoring.poolQ, v.scoring.poolK,
                           v.scoring.aggregate, v.levels());
  };
  auto selection = [](const SelectionParams &s) {
    return std::tie(s.rule, s.density, s.p, s.threshold, s.keep);
  };
  auto schedule = [](const ScheduleParams &s) {
    return std::tie(s.denseWarmupSteps, s.refreshEvery, s.densityDecay,
                    s.minDensity, s.densityByStep);
  };
  auto adaptive = [](const AdaptiveParams &s) {
    return std::tie(s.enabled, s.targetRecall, s.minDensity, s.maxDensity);
  };
  return a.name == b.name && problem(a.problem) == problem(b.problem) &&
         a.reorder.kind == b.reorder.kind && a.reorder.tile == b.reorder.tile &&
         a.block.q == b.block.q && a.block.k == b.block.k &&
         scoring(a) == scoring(b) &&
         selection(a.selection) == selection(b.selection) &&
         schedule(a.schedule) == schedule(b.schedule) &&
         adaptive(a.adaptive) == adaptive(b.adaptive) &&
         a.tail.bins == b.tail.bins && a.linear.enabled == b.linear.enabled &&
         a.linear.routing == b.linear.routing && a.target.arch == b.target.arch;
}

std::string allowedFor(std::string_view field) {
  static const std::pair<const char *, std::string> table[] = {
      {"name", "letters, digits, '_', '-' and '.', not starting with '.'"},
      {"problem.batch", "an integer from 1 to 65535"},
      {"problem.heads", "an integer from 1 to 65535"},
      {"problem.head_dim", "64, 128"},
      {"problem.grid", "three positive integers [T, H, W], at most 16777216 "
                       "tokens in all"},
      {"problem.text_tokens", "an integer from 0 to 1048576"},
      {"problem.text_position", enumSpellings<TextPosition>()},
      {"problem.dtype", enumSpellings<DType>()},
      {"problem.scale", "a positive number; default 1/sqrt(head_dim)"},
      {"reorder.kind", enumSpellings<ReorderKind>()},
      {"reorder.tile", "three positive integers [t, h, w]; not [1, 1, 1] only "
                       "with kinds tile, hilbert2d, hilbert3d"},
      {"block.q", "64, 128"},
      {"block.k", "16, 32, 64, 128"},
      {"scoring.pool.q", "a positive divisor of block.q"},
      {"scoring.pool.k", "a positive divisor of block.k"},
      {"scoring.aggregate", enumSpellings<ScoreAggregate>()},
      {"scoring.levels", "key-group sizes from coarse to fine, each a multiple "
                         "of the next, the last equal to block.k"},
      {"selection.rule", enumSpellings<SelectionRule>()},
      {"selection.density", "a number in (0, 1]"},
      {"selection.p", "a number in (0, 1]"},
      {"selection.threshold", "a number in [0, 1)"},
      {"selection.keep",
       "a list of distinct values from " + enumSpellings<KeepGroup>()},
      {"schedule.dense_warmup_steps", "an integer >= 0"},
      {"schedule.refresh_every", "an integer >= 1"},
      {"schedule.density_decay", "a number in [0, 1); 0 with density_by_step"},
      {"schedule.min_density", "a number in [0, selection.density]"},
      {"schedule.density_by_step",
       "a list of [step, density] pairs, steps increasing from 0, densities in "
       "(0, 1]"},
      {"adaptive.enabled", "true, false"},
      {"adaptive.target_recall", "a number in (0, 1]"},
      {"adaptive.min_density", "a number in (0, 1]"},
      {"adaptive.max_density", "a number in [adaptive.min_density, 1]"},
      {"tail.bins", "an integer from 0 to 64"},
      {"linear.enabled", "true, false"},
      {"linear.routing", "one of " + enumSpellings<Route>() +
                             " for all heads, or a list of sparse, linear, "
                             "hybrid with one entry per head"},
      {"target.arch", enumSpellings<Arch>()},
  };
  // Indexed paths ("schedule.density_by_step[2]") share their field's text.
  std::string_view base = field.substr(0, field.find('['));
  for (const auto &[path, allowed] : table)
    if (base == path)
      return allowed;
  return "see the variant format in README.md";
}

VariantIssue fieldIssue(std::string_view field, std::string message) {
  return {std::string(field),
          std::move(message) + " (allowed: " + allowedFor(field) + ")"};
}

std::string formatDouble(double value) {
  char buffer[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  return buffer;
}

namespace {
/// Collects the first issue; later checks are skipped once one is found, so
/// the reported issue is the first in field order.
class Checker {
public:
  bool ok() const { return !issue; }
  std::optional<VariantIssue> take() { return std::move(issue); }

  void fail(std::string_view field, std::string message) {
    if (!issue)
      issue = fieldIssue(field, std::move(message));
  }
  void intRange(std::string_view field, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi)
      fail(field, "value " + std::to_string(v) + " is out of range");
  }
  void intOneOf(std::string_view field, int64_t v,
                std::initializer_list<int64_t> allowed) {
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
      fail(field, "unsupported value " + std::to_string(v));
  }
  /// A finite number in the interval given by lo/hi and their openness.
  void number(std::string_view field, double v, double lo, bool loOpen,
              double hi, bool hiOpen) {
    bool inside = std::isfinite(v) && (loOpen ? v > lo : v >= lo) &&
                  (hiOpen ? v < hi : v <= hi);
    if (!inside)
      fail(field, "value " + formatDouble(v) + " is out of range");
  }
  void extents(std::string_view field, const std::vector<int64_t> &v) {
    if (v.size() != 3) {
      fail(field, "has " + std::to_string(v.size()) + " entries, needs 3");
      return;
    }
    for (int64_t e : v)
      if (e <= 0) {
        fail(field, "extent " + std::to_string(e) + " is not positive");
        return;
      }
  }

private:
  std::optional<VariantIssue> issue;
};

bool validName(const std::string &name) {
  if (name.empty() || name.front() == '.' || name.size() > 200)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}
} // namespace

std::optional<VariantIssue> validateVariant(const VariantParams &v) {
  Checker c;
  if (!validName(v.name))
    c.fail("name", "\"" + v.name + "\" cannot be used as a file name");

  const ProblemParams &p = v.problem;
  c.intRange("problem.batch", p.batch, 1, kMaxGridDim);
  c.intRange("problem.heads", p.heads, 1, kMaxGridDim);
  c.intOneOf("problem.head_dim", p.headDim, {64, 128});
  c.extents("problem.grid", p.grid);
  if (c.ok() && p.videoTokens() > kMaxTokens)
    c.fail("problem.grid",
           std::to_string(p.videoTokens()) + " video tokens are too many");
  c.intRange("problem.text_tokens", p.textTokens, 0, kMaxTextTokens);
  if (p.scale)
    c.number("problem.scale", *p.scale, 0, true, 1e30, false);

  c.extents("reorder.tile", v.reorder.tile);
  bool usesTile = v.reorder.kind == ReorderKind::Tile ||
                  v.reorder.kind == ReorderKind::Hilbert2D ||
                  v.reorder.kind == ReorderKind::Hilbert3D;
  if (c.ok() && !usesTile && v.reorder.tile != std::vector<int64_t>{1, 1, 1})
    c.fail("reorder.tile",
           std::string("kind ") + toString(v.reorder.kind) + " takes no tile");

  c.intOneOf("block.q", v.block.q, {64, 128});
  c.intOneOf("block.k", v.block.k, {16, 32, 64, 128});

  if (c.ok() && (v.scoring.poolQ <= 0 || v.block.q % v.scoring.poolQ != 0))
    c.fail("scoring.pool.q",
           std::to_string(v.scoring.poolQ) +
               " does not divide block.q = " + std::to_string(v.block.q));
  if (c.ok() && (v.scoring.poolK <= 0 || v.block.k % v.scoring.poolK != 0))
    c.fail("scoring.pool.k",
           std::to_string(v.scoring.poolK) +
               " does not divide block.k = " + std::to_string(v.block.k));
  const std::vector<int64_t> &levels = v.scoring.levels;
  if (c.ok() && !levels.empty()) {
    for (size_t i = 0; i < levels.size() && c.ok(); ++i) {
      if (levels[i] <= 0)
        c.fail("scoring.levels",
               "size " + std::to_string(levels[i]) + " is not positive");
      else if (i > 0 && levels[i] >= levels[i - 1])
        c.fail("scoring.levels", "sizes are not decreasing (" +
                                     std::to_string(levels[i - 1]) + " then " +
                                     std::to_string(levels[i]) + ")");
      else if (i > 0 && levels[i - 1] % levels[i] != 0)
        c.fail("scoring.levels", std::to_string(levels[i - 1]) +
                                     " is not a multiple of " +
                                     std::to_string(levels[i]));
    }
    if (c.ok() && levels.back() != v.block.k)
      c.fail("scoring.levels",
             "the last level is " + std::to_string(levels.back()) +
                 ", not block.k = " + std::to_string(v.block.k));
  }

  const SelectionParams &s = v.selection;
  c.number("selection.density", s.density, 0, true, 1, false);
  c.number("selection.p", s.p, 0, true, 1, false);
  c.number("selection.threshold", s.threshold, 0, false, 1, true);
  for (size_t i = 0; i < s.keep.size() && c.ok(); ++i)
    if (std::count(s.keep.begin(), s.keep.end(), s.keep[i]) > 1)
      c.fail("selection.keep",
             std::string("\"") + toString(s.keep[i]) + "\" is listed twice");

  const ScheduleParams &sch = v.schedule;
  c.intRange("schedule.dense_warmup_steps", sch.denseWarmupSteps, 0,
             int64_t(1) << 30);
  c.intRange("schedule.refresh_every", sch.refreshEvery, 1, int64_t(1) << 30);
  c.number("schedule.density_decay", sch.densityDecay, 0, false, 1, true);
  c.number("schedule.min_density", sch.minDensity, 0, false, 1, false);
  if (c.ok() && sch.minDensity > s.density)
    c.fail("schedule.min_density",
           formatDouble(sch.minDensity) +
               " is above selection.density = " + formatDouble(s.density));
  for (size_t i = 0; i < sch.densityByStep.size() && c.ok(); ++i) {
    auto [step, density] = sch.densityByStep[i];
    std::string field = "schedule.density_by_step[" + std::to_string(i) + "]";
    if (step < 0 || (i > 0 && step <= sch.densityByStep[i - 1].first))
      c.fail(field, "step " + std::to_string(step) +
                        " is negative or not after the previous step");
    else if (!(density > 0 && density <= 1))
      c.fail(field, "density " + formatDouble(density) + " is out of range");
  }
  if (c.ok() && !sch.densityByStep.empty() && sch.densityDecay != 0)
    c.fail("schedule.density_decay",
           "is " + formatDouble(sch.densityDecay) +
               " but density_by_step is given; use one schedule");

  const AdaptiveParams &a = v.adaptive;
  c.number("adaptive.target_recall", a.targetRecall, 0, true, 1, false);
  c.number("adaptive.min_density", a.minDensity, 0, true, 1, false);
  c.number("adaptive.max_density", a.maxDensity, 0, true, 1, false);
  if (c.ok() && a.maxDensity < a.minDensity)
    c.fail("adaptive.max_density", formatDouble(a.maxDensity) +
                                       " is below adaptive.min_density = " +
                                       formatDouble(a.minDensity));

  c.intRange("tail.bins", v.tail.bins, 0, kMaxBins);

  const std::vector<Route> &routing = v.linear.routing;
  if (c.ok() && routing.empty())
    c.fail("linear.routing", "is empty");
  if (c.ok() && routing.size() > 1) {
    if (int64_t(routing.size()) != p.heads)
      c.fail("linear.routing", "has " + std::to_string(routing.size()) +
                                   " entries for " + std::to_string(p.heads) +
                                   " heads");
    else if (std::count(routing.begin(), routing.end(), Route::Calibrate))
      c.fail("linear.routing", "\"calibrate\" applies to all heads, not one");
  }
  return c.take();
}

} // namespace sattn
