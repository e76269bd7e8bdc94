//===- Synthetic.cpp - Video-like q, k, v for accuracy studies ------------===//

#include "compiler/reference/Synthetic.h"
#include "compiler/reference/Parallel.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>

namespace sattn::ref {

namespace {

/// SplitMix64 (Steele, Lea, Flood 2014) with Box–Muller normals: small,
/// good enough, and the same numbers everywhere.
class Random {
public:
  explicit Random(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in (0, 1).
  double uniform() { return (double(next() >> 11) + 0.5) * 0x1.0p-53; }
  double normal() {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    double r = std::sqrt(-2 * std::log(uniform())), a = 2 * M_PI * uniform();
    spare = r * std::sin(a);
    hasSpare = true;
    return r * std::cos(a);
  }

private:
  uint64_t state;
  bool hasSpare = false;
  double spare = 0;
};

/// One stream per purpose: the seed, the head and a tag hashed together.
Random stream(uint64_t seed, int64_t bh, uint64_t tag, int64_t step = 0) {
  Random mix(seed ^ (uint64_t(bh) * 0x100000001b3ull) ^ (tag << 48) ^
             (uint64_t(step) * 0x9e3779b97f4a7c15ull));
  return Random(mix.next());
}

enum Tag : uint64_t {
  kStructure = 1,
  kNoise,
  kStepNoise,
  kValues,
  kValueNoise,
  kStepValueNoise
};

struct Token {
  bool text = false;
  int64_t index = 0; // text index, or video (frame-major) index
  double t = 0, y = 0, x = 0;
};

std::vector<Token> layout(const SyntheticSpec &spec) {
  int64_t t = spec.grid[0], h = spec.grid[1], w = spec.grid[2];
  std::vector<Token> video, text;
  for (int64_t i = 0; i < t * h * w; ++i)
    video.push_back(
        {false, i, double(i / (h * w)), double(i / w % h), double(i % w)});
  for (int64_t i = 0; i < spec.textTokens; ++i)
    text.push_back({true, i, 0, 0, 0});
  std::vector<Token> all;
  if (spec.textPosition == TextPosition::First)
    all = text;
  all.insert(all.end(), video.begin(), video.end());
  if (spec.textPosition == TextPosition::Last)
    all.insert(all.end(), text.begin(), text.end());
  return all;
}

/// Random Fourier features of a scaled position: d/2 Gaussian frequencies,
/// cos and sin of each, so that φ(p) · φ(p') ≈ exp(−|p − p'|² / 2) of the
/// scaled distance and |φ(p)| = 1.
class FourierFeatures {
public:
  FourierFeatures(Random &random, int64_t d, std::array<double, 3> lengths) {
    for (int64_t i = 0; i < d / 2; ++i) {
      std::array<double, 3> w;
      for (int c = 0; c < 3; ++c)
        w[c] = random.normal() / lengths[c];
      freq.push_back(w);
    }
  }
  void add(const Token &token, double weight, double *out) const {
    double norm = weight / std::sqrt(double(freq.size()));
    for (size_t i = 0; i < freq.size(); ++i) {
      double a =
          freq[i][0] * token.t + freq[i][1] * token.y + freq[i][2] * token.x;
      out[2 * i] += norm * std::cos(a);
      out[2 * i + 1] += norm * std::sin(a);
    }
  }

private:
  std::vector<std::array<double, 3>> freq;
};

std::vector<double> unitVector(Random &random, int64_t d) {
  std::vector<double> u(d);
  double norm = 0;
  for (double &x : u) {
    x = random.normal();
    norm += x * x;
  }
  for (double &x : u)
    x /= std::sqrt(norm);
  return u;
}

void addScaled(const std::vector<double> &u, double weight, double *out) {
  for (size_t e = 0; e < u.size(); ++e)
    out[e] += weight * u[e];
}

/// Reflects x into [0, extent) (a blob bounces off the frame's border).
double reflect(double x, double extent) {
  double period = 2 * extent;
  x = std::fmod(x, period);
  if (x < 0)
    x += period;
  return x < extent ? x : period - x;
}

struct Blob {
  double y, x, dy, dx, radius;
  std::vector<double> embedding;
};

/// The i-th of `samples` sampled queries of S: a golden-ratio sequence, so
/// that the samples spread over frames, rows and columns alike (an even
/// stride would pick one column of a frame whose width divides it).
int64_t sampledQuery(int64_t i, int64_t samples, int64_t s) {
  if (samples >= s)
    return i;
  double frac = std::fmod(0.5 + double(i) * 0.6180339887498949, 1.0);
  return std::min(s - 1, int64_t(frac * double(s)));
}

double targetShare(SyntheticHead kind) {
  switch (kind) {
  case SyntheticHead::Local:
    return 0.92;
  case SyntheticHead::Temporal:
    return 0.88;
  case SyntheticHead::Semantic:
    return 0.86;
  case SyntheticHead::Sink:
    return 0.94;
  case SyntheticHead::Random:
    return 0.90;
  }
  return 0.9;
}

/// Writes the structured q and k of one head (before noise and scaling).
void structure(const SyntheticSpec &spec, SyntheticHead kind,
               const std::vector<Token> &tokens, int64_t bh, Tensor &q,
               Tensor &k) {
  int64_t d = spec.headDim, h = spec.heads;
  int64_t ib = bh / h, ih = bh % h;
  double frameH = double(spec.grid[1]), frameW = double(spec.grid[2]);
  Random random = stream(spec.seed, bh, kStructure);
  FourierFeatures local(random, d, {1.5, 3, 3});
  FourierFeatures temporal(random, d, {8, 1.5, 1.5});
  std::vector<double> sinkDir = unitVector(random, d);
  std::vector<double> textDir = unitVector(random, d);
  std::vector<double> background = unitVector(random, d);
  std::vector<Blob> blobs;
  for (int i = 0; i < 4; ++i) {
    Blob blob;
    blob.y = random.uniform() * frameH;
    blob.x = random.uniform() * frameW;
    double angle = 2 * M_PI * random.uniform(), speed = 0.5 + random.uniform();
    blob.dy = speed * std::sin(angle);
    blob.dx = speed * std::cos(angle);
    blob.radius = (0.1 + 0.1 * random.uniform()) * std::min(frameH, frameW);
    blob.embedding = unitVector(random, d);
    blobs.push_back(std::move(blob));
  }
  // One sink per 1024 video tokens, at a random offset inside its stretch.
  std::vector<uint8_t> sink(tokens.size(), 0);
  for (size_t p = 0; p < tokens.size(); ++p)
    if (tokens[p].text)
      sink[p] = 1;
  int64_t videoTokens = spec.grid[0] * spec.grid[1] * spec.grid[2];
  std::vector<int64_t> sinkVideo;
  for (int64_t start = 0; start < videoTokens; start += 1024)
    sinkVideo.push_back(
        start + int64_t(random.uniform() *
                        double(std::min<int64_t>(1024, videoTokens - start))));

  for (size_t p = 0; p < tokens.size(); ++p) {
    const Token &token = tokens[p];
    double *qRow = q.row(ib, ih, int64_t(p)), *kRow = k.row(ib, ih, int64_t(p));
    if (token.text) {
      Random textRandom = stream(spec.seed, bh, kStructure, 1000 + token.index);
      std::vector<double> own = unitVector(textRandom, d);
      addScaled(own, 0.7, qRow);
      addScaled(own, 0.7, kRow);
      addScaled(textDir, 0.5, qRow);
      addScaled(textDir, 0.5, kRow);
      if (kind == SyntheticHead::Sink)
        addScaled(sinkDir, 1.0, kRow);
      continue;
    }
    if (spec.textTokens > 0)
      addScaled(textDir, 0.2, qRow);
    switch (kind) {
    case SyntheticHead::Local:
      local.add(token, 1, qRow);
      local.add(token, 1, kRow);
      break;
    case SyntheticHead::Temporal:
      temporal.add(token, 1, qRow);
      temporal.add(token, 1, kRow);
      break;
    case SyntheticHead::Semantic: {
      std::vector<double> e(size_t(d), 0.0);
      for (const Blob &blob : blobs) {
        double shift = 20 * spec.drift * double(spec.step);
        double speed = std::hypot(blob.dy, blob.dx);
        double cy =
            reflect(blob.y + blob.dy * (token.t + shift / speed), frameH);
        double cx =
            reflect(blob.x + blob.dx * (token.t + shift / speed), frameW);
        double dist2 =
            (token.y - cy) * (token.y - cy) + (token.x - cx) * (token.x - cx);
        addScaled(blob.embedding,
                  std::exp(-dist2 / (2 * blob.radius * blob.radius)), e.data());
      }
      addScaled(background, 0.3, e.data());
      local.add(token, 0.3, e.data());
      addScaled(e, 1, qRow);
      addScaled(e, 1, kRow);
      break;
    }
    case SyntheticHead::Sink: {
      local.add(token, 0.6, qRow);
      local.add(token, 0.6, kRow);
      addScaled(sinkDir, 0.8, qRow);
      if (std::count(sinkVideo.begin(), sinkVideo.end(), token.index))
        addScaled(sinkDir, 1.0, kRow);
      break;
    }
    case SyntheticHead::Random: {
      Random noise = stream(spec.seed, bh, kStructure, 2000000 + int64_t(p));
      for (int64_t e = 0; e < d; ++e) {
        qRow[e] += noise.normal() / std::sqrt(double(d));
        kRow[e] += noise.normal() / std::sqrt(double(d));
      }
      break;
    }
    }
  }
}

/// Adds iid noise of norm ~`amplitude` to every row of head bh, drifting
/// with the step: sqrt(1 − f) · base + sqrt(f) · fresh, f = 1 − (1 −
/// drift)^step.
void addNoise(const SyntheticSpec &spec, int64_t bh, uint64_t baseTag,
              uint64_t stepTag, double amplitude, Tensor &x) {
  int64_t h = spec.heads, s = x.dim(2), d = x.dim(3);
  double fresh = 1 - std::pow(1 - spec.drift, double(spec.step));
  Random base = stream(spec.seed, bh, baseTag);
  Random now = stream(spec.seed, bh, stepTag, spec.step);
  double sigma = amplitude / std::sqrt(double(d));
  for (int64_t t = 0; t < s; ++t) {
    double *row = x.row(bh / h, bh % h, t);
    for (int64_t e = 0; e < d; ++e)
      row[e] += sigma * (std::sqrt(1 - fresh) * base.normal() +
                         std::sqrt(fresh) * now.normal());
  }
}

/// Smooth values: low-frequency features of the position, the blob
/// embeddings of semantic heads and noise, entries of about unit variance.
void values(const SyntheticSpec &spec, SyntheticHead kind,
            const std::vector<Token> &tokens, int64_t bh, const Tensor &k,
            Tensor &v) {
  int64_t d = spec.headDim, h = spec.heads;
  int64_t ib = bh / h, ih = bh % h;
  Random random = stream(spec.seed, bh, kValues);
  FourierFeatures smooth(random, d, {3, 6, 6});
  // Semantic heads: the value carries the object too, through a fixed
  // random linear map of the key.
  std::vector<double> project;
  if (kind == SyntheticHead::Semantic)
    for (int64_t e = 0; e < d * d; ++e)
      project.push_back(random.normal() / std::sqrt(double(d)));
  for (size_t p = 0; p < tokens.size(); ++p) {
    double *row = v.row(ib, ih, int64_t(p));
    if (tokens[p].text) {
      Random textRandom =
          stream(spec.seed, bh, kValues, 1000 + tokens[p].index);
      addScaled(unitVector(textRandom, d), 1, row);
    } else {
      smooth.add(tokens[p], 1, row);
    }
    if (!project.empty()) {
      const double *key = k.row(ib, ih, int64_t(p));
      for (int64_t e = 0; e < d; ++e)
        row[e] += 0.5 * dot(&project[size_t(e * d)], key, d);
    }
  }
  addNoise(spec, bh, kValueNoise, kStepValueNoise, 0.3, v);
  double unit = std::sqrt(double(d));
  for (int64_t p = 0; p < int64_t(tokens.size()); ++p)
    for (int64_t e = 0; e < d; ++e)
      v(ib, ih, p, e) *= unit;
}

/// The temperature at which head bh's top tenth carries `target` on average
/// over the sampled queries: a bisection on log τ, the share being monotone
/// in τ (its log-derivative is E_top[z] − E_all[z] >= 0).
double calibrateTemperature(const Tensor &q, const Tensor &k, int64_t b,
                            int64_t h, double scale, double target) {
  int64_t s = q.dim(2), d = q.dim(3);
  if (s < 2)
    return 1;
  int64_t samples = std::min<int64_t>(256, s);
  int64_t top = std::max<int64_t>(1, int64_t(0.1 * double(s)));
  std::vector<std::vector<double>> logits;
  for (int64_t i = 0; i < samples; ++i) {
    int64_t t = sampledQuery(i, samples, s);
    std::vector<double> z(s);
    for (int64_t j = 0; j < s; ++j)
      z[size_t(j)] = dot(q.row(b, h, t), k.row(b, h, j), d) * scale;
    std::sort(z.begin(), z.end(), std::greater<double>());
    logits.push_back(std::move(z));
  }
  auto share = [&](double tau) {
    double mean = 0;
    for (const std::vector<double> &z : logits) {
      double topSum = 0, all = 0;
      for (int64_t j = 0; j < s; ++j) {
        double w = std::exp(tau * (z[size_t(j)] - z[0]));
        all += w;
        if (j < top)
          topSum += w;
      }
      mean += topSum / all;
    }
    return mean / double(logits.size());
  };
  double lo = -8, hi = 8;
  for (int it = 0; it < 30; ++it) {
    double mid = 0.5 * (lo + hi);
    (share(std::exp(mid)) < target ? lo : hi) = mid;
  }
  return std::exp(0.5 * (lo + hi));
}

} // namespace

std::vector<std::string> syntheticNames() {
  return {"video", "local", "temporal", "semantic", "sink", "random"};
}

const char *toString(SyntheticHead kind) {
  switch (kind) {
  case SyntheticHead::Local:
    return "local";
  case SyntheticHead::Temporal:
    return "temporal";
  case SyntheticHead::Semantic:
    return "semantic";
  case SyntheticHead::Sink:
    return "sink";
  case SyntheticHead::Random:
    return "random";
  }
  return "?";
}

std::optional<std::vector<SyntheticHead>>
syntheticKinds(const std::string &name, int64_t heads) {
  static const SyntheticHead cycle[] = {
      SyntheticHead::Local, SyntheticHead::Temporal, SyntheticHead::Semantic,
      SyntheticHead::Sink};
  std::vector<SyntheticHead> kinds;
  for (int64_t h = 0; h < heads; ++h) {
    if (name == "video") {
      kinds.push_back(cycle[h % 4]);
      continue;
    }
    bool found = false;
    for (SyntheticHead kind :
         {SyntheticHead::Local, SyntheticHead::Temporal,
          SyntheticHead::Semantic, SyntheticHead::Sink, SyntheticHead::Random})
      if (name == toString(kind)) {
        kinds.push_back(kind);
        found = true;
      }
    if (!found)
      return std::nullopt;
  }
  return kinds;
}

double topShare(const Tensor &q, const Tensor &k, int64_t b, int64_t h,
                double scale, double fraction, int64_t samples) {
  int64_t s = q.dim(2), d = q.dim(3);
  samples = std::min(samples, s);
  int64_t top = std::max<int64_t>(1, int64_t(fraction * double(s)));
  double mean = 0;
  for (int64_t i = 0; i < samples; ++i) {
    int64_t t = sampledQuery(i, samples, s);
    std::vector<double> z(s);
    for (int64_t j = 0; j < s; ++j)
      z[size_t(j)] = dot(q.row(b, h, t), k.row(b, h, j), d) * scale;
    std::sort(z.begin(), z.end(), std::greater<double>());
    double topSum = 0, all = 0;
    for (int64_t j = 0; j < s; ++j) {
      double w = std::exp(z[size_t(j)] - z[0]);
      all += w;
      if (j < top)
        topSum += w;
    }
    mean += topSum / all;
  }
  return mean / double(samples);
}

ProblemParams problemOf(const SyntheticSpec &spec) {
  ProblemParams p;
  p.batch = spec.batch;
  p.heads = spec.heads;
  p.headDim = spec.headDim;
  p.grid = spec.grid;
  p.textTokens = spec.textTokens;
  p.textPosition = spec.textPosition;
  return p;
}

SyntheticSpec specFor(const ProblemParams &problem) {
  SyntheticSpec spec;
  spec.batch = problem.batch;
  spec.heads = problem.heads;
  spec.headDim = problem.headDim;
  spec.grid = problem.grid;
  spec.textTokens = problem.textTokens;
  spec.textPosition = problem.textPosition;
  return spec;
}

SyntheticInputs makeSynthetic(const SyntheticSpec &spec) {
  std::optional<std::vector<SyntheticHead>> kinds =
      syntheticKinds(spec.name, spec.heads);
  assert(kinds && spec.grid.size() == 3 && "invalid synthetic spec");
  std::vector<Token> tokens = layout(spec);
  int64_t s = int64_t(tokens.size()), d = spec.headDim;
  double scale = 1 / std::sqrt(double(d));
  SyntheticInputs in;
  in.kinds = *kinds;
  in.q = Tensor({spec.batch, spec.heads, s, d});
  in.k = in.q;
  in.v = in.q;
  int64_t heads = spec.batch * spec.heads;
  in.temperature.assign(size_t(heads), 1.0);
  in.topTenthShare.assign(size_t(heads), 0.0);
  parallelFor(heads, [&](int64_t bh) {
    SyntheticHead kind = in.kinds[size_t(bh % spec.heads)];
    int64_t ib = bh / spec.heads, ih = bh % spec.heads;
    structure(spec, kind, tokens, bh, in.q, in.k);
    if (kind != SyntheticHead::Random) {
      addNoise(spec, bh, kNoise, kStepNoise, 0.2, in.q);
      addNoise(spec, bh, kNoise + 100, kStepNoise + 100, 0.2, in.k);
    }
    values(spec, kind, tokens, bh, in.k, in.v);
    if (spec.calibrate) {
      double tau =
          calibrateTemperature(in.q, in.k, ib, ih, scale, targetShare(kind));
      for (int64_t t = 0; t < s; ++t)
        for (int64_t e = 0; e < d; ++e)
          in.q(ib, ih, t, e) *= tau;
      in.temperature[size_t(bh)] = tau;
    }
    in.topTenthShare[size_t(bh)] =
        topShare(in.q, in.k, ib, ih, scale, 0.1, 256);
  });
  return in;
}

} // namespace sattn::ref
