//===- TuningParams.h - The tile parameters a tuner turns -------*- C++ -*-===//
//
// The knobs of the attention templates that change speed but not results:
// what sattnc takes as options, what the compiler validates, what sattn-tune
// searches over and the tuning DB stores. The defaults are what the runtime
// compiles with when nothing was tuned for the present GPU. Plain C++ (the
// runtime reads it without MLIR).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_TUNINGPARAMS_H
#define SATTN_COMPILER_TUNINGPARAMS_H

#include <cstdint>
#include <string>

namespace sattn {

struct TuningParams {
  /// Sparse attention template: "mma" (tensor cores, mma.sync), "wgmma"
  /// (sm_90a tensor cores, wgmma), "wgmma-ws" (sm_90a, warp-specialized
  /// wgmma), "auto" (on sm_90a wgmma-ws, else wgmma, where they take the
  /// tile parameters; else mma) or "simt" (portable, for debugging).
  std::string attentionTemplate = "auto";
  /// Keys per pipeline tile: 32, 64, 128, or 0 for the template's default
  /// (mma: 64; wgmma: 128 with head_dim 128, else 64; wgmma-ws: 128).
  int64_t keyTile = 0;
  int64_t stages = 2;   // cp.async stages: 2, 3, 4
  int64_t warpRows = 0; // query rows per warp: 16, 32; 0 the template's
  /// wgmma-ws: a persistent grid (one CTA per multiprocessor walking the
  /// work items) instead of one CTA per (query block, head, batch). Off
  /// until measured on a GPU (bench/NOTES-mma.md).
  bool persistent = false;

  /// "template=auto key_tile=0 stages=2 warp_rows=0" (also part of the
  /// kernel cache's key), with " persistent=1" when that is on.
  std::string text() const {
    return "template=" + attentionTemplate +
           " key_tile=" + std::to_string(keyTile) +
           " stages=" + std::to_string(stages) +
           " warp_rows=" + std::to_string(warpRows) +
           (persistent ? " persistent=1" : "");
  }
  bool operator==(const TuningParams &other) const {
    return text() == other.text();
  }
  /// Empty when every value is supported; else what is wrong, naming the
  /// option and the allowed values.
  std::string problem() const {
    auto oneOf = [](int64_t v, std::initializer_list<int64_t> allowed) {
      for (int64_t a : allowed)
        if (v == a)
          return true;
      return false;
    };
    if (attentionTemplate != "auto" && attentionTemplate != "mma" &&
        attentionTemplate != "wgmma" && attentionTemplate != "wgmma-ws" &&
        attentionTemplate != "simt")
      return "attention-template: unknown value \"" + attentionTemplate +
             "\" (allowed: auto, mma, wgmma, wgmma-ws, simt)";
    if (!oneOf(keyTile, {0, 32, 64, 128}))
      return "key-tile: unsupported value " + std::to_string(keyTile) +
             " (allowed: 0 for the template's default, 32, 64, 128)";
    if (!oneOf(stages, {2, 3, 4}))
      return "stages: unsupported value " + std::to_string(stages) +
             " (allowed: 2, 3, 4)";
    if (!oneOf(warpRows, {0, 16, 32}))
      return "warp-rows: unsupported value " + std::to_string(warpRows) +
             " (allowed: 0, 16, 32)";
    return "";
  }
};

} // namespace sattn

#endif // SATTN_COMPILER_TUNINGPARAMS_H
