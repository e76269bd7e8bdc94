//===- TuningDb.h - Measured kernel parameters per GPU ----------*- C++ -*-===//
//
// The tuning database that sattn-tune writes and the runtime reads: JSON, one
// entry per (variant hash, shape bucket, GPU name, driver version, compiler
// version), holding every candidate measured for it (time, or why it
// failed). The best entry is the fastest candidate that passed its check;
// the default's time is there too, so the gain is on record.
//
// - The variant hash covers what changes the kernels (head_dim, dtype,
//   blocks, tail bins, linear path, ...), not the problem sizes or the
//   selection and schedule, which the shape bucket covers: batch x heads and
//   tokens rounded up to powers of two, density to one of 0.05, 0.1, 0.25,
//   0.5, 1.
// - Writers merge: each takes a lock (flock on DB.lock), re-reads the file,
//   adds its measurements (a candidate measured again replaces its old
//   result) and replaces the file atomically. Two sweeps writing at once
//   both keep what they measured; a crash loses nothing already written.
// - Plain C++ (no MLIR, no CUDA): tested on machines without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_TUNINGDB_H
#define SATTN_RUNTIME_TUNINGDB_H

#include "compiler/TuningParams.h"
#include "dialect/VariantParams.h"

#include <string>
#include <vector>

namespace sattn {

struct TuningKey {
  std::string variantHash;
  std::string shapeBucket;
  std::string gpu;
  int driver = 0;
  std::string compiler;

  bool operator==(const TuningKey &other) const;
  /// One line for messages: "wan.. on NVIDIA H100 (driver 13000, ...)".
  std::string describe() const;
};

/// The key of `variant` at selection density `density` on a GPU.
TuningKey tuningKeyFor(const VariantParams &variant, double density,
                       const std::string &gpu, int driver,
                       const std::string &compiler);
/// The kernel-relevant part of the variant, hashed (16 hex digits).
std::string variantHash(const VariantParams &variant);
/// "bh64-s32768-d0.1": B*H and S rounded up to powers of two, density to
/// the nearest bucket.
std::string shapeBucket(const ProblemParams &problem, double density);

struct TuningMeasurement {
  TuningParams params;
  double ms = 0;       // median kernel time, when it passed
  double relL2 = 0;    // its error against the float64 reference
  std::string failure; // empty: measured; else why it was rejected
  std::string date;    // UTC, ISO 8601
  bool ok() const { return failure.empty(); }
};

struct TuningEntry {
  TuningKey key;
  std::string variantName; // for people reading the file
  std::vector<TuningMeasurement> measurements;

  /// The fastest candidate that passed, or null.
  const TuningMeasurement *best() const;
  const TuningMeasurement *find(const TuningParams &params) const;
  /// Adds `m`, replacing an earlier result for the same parameters.
  void record(TuningMeasurement m);
};

class TuningDb {
public:
  /// Reads `path`. A missing file is an empty database; a file that is not
  /// a tuning database returns false with `error` naming what is wrong.
  static bool read(const std::string &path, TuningDb &db, std::string *error);
  /// Merges `entry` into the database file at `path` (created with its
  /// folder if missing), under the file's lock, atomically.
  static bool mergeInto(const std::string &path, const TuningEntry &entry,
                        std::string *error);

  std::string toJson() const;
  static bool fromJson(const std::string &text, TuningDb &db,
                       std::string *error);

  const TuningEntry *find(const TuningKey &key) const;
  void merge(const TuningEntry &entry);
  const std::vector<TuningEntry> &entries() const { return entries_; }

private:
  std::vector<TuningEntry> entries_;
};

/// $SATTN_TUNING_DB, else tuning.json in the kernel cache folder.
std::string defaultTuningDbPath();

/// What the runtime compiles with for `key`: the DB's best entry, or the
/// defaults. `source` says which, in one line (for statistics).
TuningParams chooseTuning(const std::string &dbPath, const TuningKey &key,
                          std::string *source);

} // namespace sattn

#endif // SATTN_RUNTIME_TUNINGDB_H
