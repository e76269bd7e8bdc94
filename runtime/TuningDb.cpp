//===- TuningDb.cpp - Measured kernel parameters per GPU ------------------===//

#include "runtime/TuningDb.h"

#include "dialect/VariantJson.h"
#include "runtime/Files.h"
#include "runtime/KernelCache.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sys/stat.h>

namespace sattn {
namespace {

constexpr const char *kFormat = "sattn-tuning-db 1";

int64_t nextPowerOfTwo(int64_t n) {
  int64_t p = 1;
  while (p < n)
    p *= 2;
  return p;
}

nlohmann::ordered_json paramsJson(const TuningParams &p) {
  nlohmann::ordered_json j = {{"template", p.attentionTemplate},
                              {"key_tile", p.keyTile},
                              {"stages", p.stages},
                              {"warp_rows", p.warpRows}};
  if (p.persistent) // the default is left out, as in text()
    j["persistent"] = true;
  return j;
}

TuningParams paramsFrom(const nlohmann::json &j) {
  TuningParams p;
  p.attentionTemplate = j.at("template").get<std::string>();
  p.keyTile = j.at("key_tile").get<int64_t>();
  p.stages = j.at("stages").get<int64_t>();
  p.warpRows = j.at("warp_rows").get<int64_t>();
  // Entries from before the persistent kernel measured the default.
  p.persistent = j.value("persistent", false);
  return p;
}

} // namespace

bool TuningKey::operator==(const TuningKey &o) const {
  return variantHash == o.variantHash && shapeBucket == o.shapeBucket &&
         gpu == o.gpu && driver == o.driver && compiler == o.compiler;
}

std::string TuningKey::describe() const {
  return "variant " + variantHash + ", shape " + shapeBucket + " on " + gpu +
         " (driver " + std::to_string(driver) + ", " + compiler + ")";
}

std::string variantHash(const VariantParams &variant) {
  // Sizes, selection and schedule change from call to call; they are the
  // shape bucket's business, not the kernel's.
  VariantParams kernel = variant;
  kernel.name.clear();
  kernel.problem.batch = 1;
  kernel.problem.heads = 1;
  kernel.problem.grid = {1, 1, 1};
  kernel.problem.textTokens = 0;
  kernel.selection = SelectionParams();
  kernel.schedule = ScheduleParams();
  kernel.adaptive = AdaptiveParams();
  kernel.target = TargetParams(); // the arch is in the GPU name
  return hex64(fnv1a(writeVariantJson(kernel, /*indent=*/-1)));
}

std::string shapeBucket(const ProblemParams &problem, double density) {
  // Nearest bucket on a log scale: the boundaries are geometric means.
  static const double buckets[] = {0.05, 0.1, 0.25, 0.5, 1.0};
  double chosen = buckets[0];
  for (double b : buckets)
    if (std::abs(std::log(density / b)) < std::abs(std::log(density / chosen)))
      chosen = b;
  char text[96];
  std::snprintf(text, sizeof text, "bh%lld-s%lld-d%g",
                (long long)nextPowerOfTwo(problem.batch * problem.heads),
                (long long)nextPowerOfTwo(problem.seqLen()), chosen);
  return text;
}

TuningKey tuningKeyFor(const VariantParams &variant, double density,
                       const std::string &gpu, int driver,
                       const std::string &compiler) {
  return {variantHash(variant), shapeBucket(variant.problem, density), gpu,
          driver, compiler};
}

const TuningMeasurement *TuningEntry::best() const {
  const TuningMeasurement *best = nullptr;
  for (const TuningMeasurement &m : measurements)
    if (m.ok() && (!best || m.ms < best->ms))
      best = &m;
  return best;
}

const TuningMeasurement *TuningEntry::find(const TuningParams &params) const {
  for (const TuningMeasurement &m : measurements)
    if (m.params == params)
      return &m;
  return nullptr;
}

void TuningEntry::record(TuningMeasurement m) {
  for (TuningMeasurement &old : measurements)
    if (old.params == m.params) {
      old = std::move(m);
      return;
    }
  measurements.push_back(std::move(m));
}

const TuningEntry *TuningDb::find(const TuningKey &key) const {
  for (const TuningEntry &e : entries_)
    if (e.key == key)
      return &e;
  return nullptr;
}

void TuningDb::merge(const TuningEntry &entry) {
  for (TuningEntry &e : entries_)
    if (e.key == entry.key) {
      for (const TuningMeasurement &m : entry.measurements)
        e.record(m);
      if (!entry.variantName.empty())
        e.variantName = entry.variantName;
      return;
    }
  entries_.push_back(entry);
}

std::string TuningDb::toJson() const {
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  for (const TuningEntry &e : entries_) {
    nlohmann::ordered_json measured = nlohmann::ordered_json::array();
    for (const TuningMeasurement &m : e.measurements) {
      nlohmann::ordered_json j = {{"params", paramsJson(m.params)}};
      if (m.ok()) {
        j["ms"] = m.ms;
        j["rel_l2"] = m.relL2;
      } else {
        j["failure"] = m.failure;
      }
      j["date"] = m.date;
      measured.push_back(std::move(j));
    }
    nlohmann::ordered_json entry = {{"variant", e.variantName},
                                    {"variant_hash", e.key.variantHash},
                                    {"shape_bucket", e.key.shapeBucket},
                                    {"gpu", e.key.gpu},
                                    {"driver", e.key.driver},
                                    {"compiler", e.key.compiler}};
    // Summary lines for people; the reader recomputes them.
    const TuningMeasurement *best = e.best();
    const TuningMeasurement *defaults = e.find(TuningParams());
    if (best)
      entry["best"] = {{"params", paramsJson(best->params)}, {"ms", best->ms}};
    if (defaults && defaults->ok())
      entry["default"] = {{"params", paramsJson(defaults->params)},
                          {"ms", defaults->ms}};
    entry["measured"] = std::move(measured);
    entries.push_back(std::move(entry));
  }
  nlohmann::ordered_json db = {{"format", kFormat},
                               {"entries", std::move(entries)}};
  return db.dump(2) + "\n";
}

bool TuningDb::fromJson(const std::string &text, TuningDb &db,
                        std::string *error) {
  db = TuningDb();
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object() || j.value("format", "") != kFormat) {
      *error = std::string("not a tuning database (expected \"format\": \"") +
               kFormat + "\")";
      return false;
    }
    for (const nlohmann::json &e : j.at("entries")) {
      TuningEntry entry;
      entry.variantName = e.value("variant", "");
      entry.key.variantHash = e.at("variant_hash").get<std::string>();
      entry.key.shapeBucket = e.at("shape_bucket").get<std::string>();
      entry.key.gpu = e.at("gpu").get<std::string>();
      entry.key.driver = e.at("driver").get<int>();
      entry.key.compiler = e.at("compiler").get<std::string>();
      for (const nlohmann::json &m : e.at("measured")) {
        TuningMeasurement measurement;
        measurement.params = paramsFrom(m.at("params"));
        measurement.date = m.value("date", "");
        if (m.contains("failure")) {
          measurement.failure = m.at("failure").get<std::string>();
          if (measurement.failure.empty())
            measurement.failure = "failed";
        } else {
          measurement.ms = m.at("ms").get<double>();
          measurement.relL2 = m.value("rel_l2", 0.0);
          if (!(measurement.ms > 0)) {
            *error = "a measurement with a time that is not positive";
            return false;
          }
        }
        entry.record(std::move(measurement));
      }
      db.merge(entry);
    }
  } catch (const std::exception &e) {
    *error = e.what();
    return false;
  }
  return true;
}

bool TuningDb::read(const std::string &path, TuningDb &db, std::string *error) {
  db = TuningDb();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT)
    return true;
  std::string text, why;
  if (!readWholeFile(path, text, &why, size_t(64) << 20)) {
    *error = why;
    return false;
  }
  if (!fromJson(text, db, &why)) {
    *error = path + ": " + why;
    return false;
  }
  return true;
}

bool TuningDb::mergeInto(const std::string &path, const TuningEntry &entry,
                         std::string *error) {
  std::string why;
  if (!makeFolders(folderOf(path), &why)) {
    *error = "cannot write the tuning database: " + why;
    return false;
  }
  FileLock lock(path);
  if (!lock.ok()) {
    *error = "cannot write the tuning database: " + lock.error();
    return false;
  }
  TuningDb db;
  if (!read(path, db, error))
    return false; // never overwrite what we cannot read
  db.merge(entry);
  if (!writeFileAtomically(path, db.toJson(), &why)) {
    *error = "cannot write the tuning database: " + why;
    return false;
  }
  return true;
}

std::string defaultTuningDbPath() {
  if (const char *path = std::getenv("SATTN_TUNING_DB"); path && *path)
    return path;
  return defaultCacheFolder() + "/tuning.json";
}

TuningParams chooseTuning(const std::string &dbPath, const TuningKey &key,
                          std::string *source) {
  TuningDb db;
  std::string error;
  if (!TuningDb::read(dbPath, db, &error)) {
    *source = "defaults (the tuning database is unreadable: " + error + ")";
    return TuningParams();
  }
  const TuningEntry *entry = db.find(key);
  const TuningMeasurement *best = entry ? entry->best() : nullptr;
  if (!best) {
    *source = "defaults (no tuning entry in " + dbPath + " for " +
              key.describe() + ")";
    return TuningParams();
  }
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.3f", best->ms);
  *source = "tuned (" + dbPath + ": " + best->params.text() + ", " + ms + " ms";
  if (const TuningMeasurement *d = entry->find(TuningParams()); d && d->ok()) {
    std::snprintf(ms, sizeof ms, "%.3f", d->ms);
    *source += std::string(" vs ") + ms + " ms with the defaults";
  }
  *source += ")";
  return best->params;
}

} // namespace sattn
