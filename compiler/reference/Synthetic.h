//===- Synthetic.h - Video-like q, k, v for accuracy studies ----*- C++ -*-===//
//
// Inputs whose attention looks like a video DiT's, not like noise, so that
// the accuracy findings (reorderings, block scoring, tail bins, schedules)
// mean something without a model at hand. Tokens sit on a T × H × W latent
// grid (frame-major, SPEC §2) plus E text tokens first or last. Each head
// is one of five kinds:
//
//   local     spatially local in 3D: q = k = random Fourier features of the
//             position (t/1.5, y/3, x/3), so q · k ≈ a Gaussian of the
//             distance (Rahimi & Recht): a query attends to its
//             neighbourhood in its own and the adjacent frames.
//   temporal  temporally aligned: the same features of (t/8, y/1.5, x/1.5):
//             a query attends to the same place in every frame.
//   semantic  moving objects: four Gaussian blobs (radius 10–20% of the
//             frame) move in straight lines across frames; a token's q and
//             k are the blob embeddings (random unit vectors) weighted by
//             its soft membership, plus a background embedding: tokens of
//             one object attend to each other in all frames.
//   sink      attention sinks: one video token per 1024 (and every text
//             token) has a key along a shared direction that every query
//             also has, over weak local features.
//   random    iid Gaussian q and k: unstructured, for contrast.
//
// Every q and k also gets iid noise (20% of the structure's norm), text
// tokens get random embeddings with a shared text direction, and v is a
// smooth function of position (low-frequency Fourier features) plus the
// object embedding plus noise, so that means over far-away tokens are
// meaningful, as in real latents.
//
// Logit scale: per head, q is multiplied by the temperature at which the
// exact top-10% keys of 256 sampled queries (spread over the grid) carry, on
// average, the head's target share of the attention mass: local 0.92, temporal
// 0.88, semantic 0.86, sink 0.94, random 0.90 (the 85–95% that video DiTs
// show). The search is a bisection on the monotone top-share curve.
//
// Steps: `step` > 0 makes the inputs of a later denoising step. The blobs
// move on by `drift` · 20 tokens per step, and the noise is mixed with fresh
// noise so that a fraction 1 − (1 − drift)^step of it is new; the
// temperature is calibrated afresh, so the top-10% share stays on target
// while the pattern drifts. Everything is a pure function of the spec
// (its own SplitMix64 + Box–Muller, no std::*_distribution), so a seed
// gives the same tensors on every platform.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_SYNTHETIC_H
#define SATTN_COMPILER_REFERENCE_SYNTHETIC_H

#include "compiler/reference/Tensor.h"
#include "dialect/VariantParams.h"

#include <optional>
#include <string>
#include <vector>

namespace sattn::ref {

enum class SyntheticHead { Local, Temporal, Semantic, Sink, Random };

struct SyntheticSpec {
  /// "video" (heads cycle local, temporal, semantic, sink), or one kind for
  /// every head: "local", "temporal", "semantic", "sink", "random".
  std::string name = "video";
  uint64_t seed = 0;
  int64_t batch = 1, heads = 4, headDim = 64;
  std::vector<int64_t> grid = {8, 32, 32};
  int64_t textTokens = 0;
  TextPosition textPosition = TextPosition::Last;
  int64_t step = 0;
  double drift = 0.05;
  /// Scale each head to its top-10% target (off: the raw features).
  bool calibrate = true;
};

struct SyntheticInputs {
  Tensor q, k, v; // [B, H, S, D], original order, softmax scale 1/sqrt(D)
  std::vector<SyntheticHead> kinds;  // per head
  std::vector<double> temperature;   // per (b, h): the factor applied to q
  std::vector<double> topTenthShare; // per (b, h): measured after scaling
};

/// The names makeSynthetic accepts, for --help and error messages.
std::vector<std::string> syntheticNames();
const char *toString(SyntheticHead kind);
/// The kind of each head for `name`, or nothing for an unknown name.
std::optional<std::vector<SyntheticHead>>
syntheticKinds(const std::string &name, int64_t heads);

/// Requires a known name, positive sizes and a 3-entry grid.
SyntheticInputs makeSynthetic(const SyntheticSpec &spec);

/// The problem (shape and token layout) of the inputs `spec` makes.
ProblemParams problemOf(const SyntheticSpec &spec);
/// A spec for inputs of `problem`'s shape and token layout.
SyntheticSpec specFor(const ProblemParams &problem);

/// The mean share of the attention mass that each query's exact top
/// `fraction` of keys carries, over `samples` queries of head (b, h) spread
/// by a golden-ratio sequence (all queries when samples >= S).
double topShare(const Tensor &q, const Tensor &k, int64_t b, int64_t h,
                double scale, double fraction, int64_t samples);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_SYNTHETIC_H
