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
  /// Sparse attention template: "mma" (tensor cores) or "simt" (portable,
  /// for debugging).
  std::string attentionTemplate = "mma";
  int64_t keyTile = 64; // keys per pipeline tile: 32, 64, 128
  int64_t stages = 2;   // cp.async stages: 2, 3, 4
  int64_t warpRows = 0; // query rows per warp: 16, 32; 0 the template's

  /// "template=mma key_tile=64 stages=2 warp_rows=0" (also part of the
  /// kernel cache's key).
  std::string text() const {
    return "template=" + attentionTemplate +
           " key_tile=" + std::to_string(keyTile) +
           " stages=" + std::to_string(stages) +
           " warp_rows=" + std::to_string(warpRows);
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
    if (attentionTemplate != "mma" && attentionTemplate != "simt")
      return "attention-template: unknown value \"" + attentionTemplate +
             "\" (allowed: mma, simt)";
    if (!oneOf(keyTile, {32, 64, 128}))
      return "key-tile: unsupported value " + std::to_string(keyTile) +
             " (allowed: 32, 64, 128)";
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
