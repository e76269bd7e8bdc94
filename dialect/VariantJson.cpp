//===- VariantJson.cpp - Read and write variant JSON files ----------------===//

#include "dialect/VariantJson.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace sattn {
namespace {

using json = nlohmann::json;

std::string describe(const json &value) {
  switch (value.type()) {
  case json::value_t::number_float:
    return "the number " + formatDouble(value.get<double>());
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
    return "the integer " + value.dump();
  case json::value_t::string:
    return "a string";
  case json::value_t::boolean:
    return "a boolean";
  case json::value_t::null:
    return "null";
  case json::value_t::array:
    return "a list";
  case json::value_t::object:
    return "an object";
  default:
    return "an unsupported value";
  }
}

/// Walks the document section by section. The first problem is kept and
/// every later read becomes a no-op, so the reported issue is the first one
/// in document order.
class Reader {
public:
  bool ok() const { return !issue; }
  std::optional<VariantIssue> take() { return std::move(issue); }

  void fail(const std::string &field, std::string message) {
    if (!issue)
      issue = fieldIssue(field, std::move(message));
  }

  /// `value` must be an object whose keys are all in `keys`.
  bool object(const json &value, const std::string &path,
              std::initializer_list<const char *> keys) {
    if (!ok())
      return false;
    if (!value.is_object()) {
      issue = VariantIssue{path.empty() ? "document" : path,
                           "expected an object, got " + describe(value) +
                               " (allowed: " + keyList(keys) + ")"};
      return false;
    }
    for (const auto &item : value.items()) {
      bool known = false;
      for (const char *key : keys)
        known |= item.key() == key;
      if (!known) {
        issue = VariantIssue{join(path, item.key()),
                             "unknown field (allowed: " + keyList(keys) + ")"};
        return false;
      }
    }
    return true;
  }

  /// Reads obj[key] into `out` when present; `out` keeps its default when not.
  template <typename T>
  void field(const json &obj, const std::string &path, const char *key,
             T &out) {
    auto it = obj.find(key);
    if (!ok() || it == obj.end())
      return;
    read(*it, join(path, key), out);
  }

  void read(const json &v, const std::string &field, int64_t &out) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX))
      return fail(field, "the integer " + v.dump() + " is out of range");
    if (!v.is_number_integer())
      return fail(field, "expected an integer, got " + describe(v));
    out = v.get<int64_t>();
  }
  void read(const json &v, const std::string &field, double &out) {
    if (!v.is_number())
      return fail(field, "expected a number, got " + describe(v));
    out = v.get<double>();
  }
  void read(const json &v, const std::string &field,
            std::optional<double> &out) {
    double value = 0;
    read(v, field, value);
    if (ok())
      out = value;
  }
  void read(const json &v, const std::string &field, bool &out) {
    if (!v.is_boolean())
      return fail(field, "expected true or false, got " + describe(v));
    out = v.get<bool>();
  }
  void read(const json &v, const std::string &field, std::string &out) {
    if (!v.is_string())
      return fail(field, "expected a string, got " + describe(v));
    out = v.get<std::string>();
  }
  template <typename E, typename = decltype(EnumInfo<E>::field)>
  void read(const json &v, const std::string &field, E &out) {
    if (!v.is_string())
      return fail(field, "expected a string, got " + describe(v));
    std::string name = v.get<std::string>();
    if (auto e = parseEnum<E>(name))
      out = *e;
    else
      issue = VariantIssue{field, unknownEnumMessage<E>(name)};
  }
  template <typename T>
  void read(const json &v, const std::string &field, std::vector<T> &out) {
    if (!v.is_array())
      return fail(field, "expected a list, got " + describe(v));
    std::vector<T> values(v.size());
    for (size_t i = 0; i < v.size() && ok(); ++i)
      read(v[i], field + "[" + std::to_string(i) + "]", values[i]);
    if (ok())
      out = std::move(values);
  }
  void read(const json &v, const std::string &field,
            std::pair<int64_t, double> &out) {
    if (!v.is_array() || v.size() != 2)
      return fail(field, "expected a [step, density] pair, got " + describe(v));
    read(v[0], field, out.first);
    read(v[1], field, out.second);
  }

private:
  static std::string join(const std::string &path, const std::string &key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string keyList(std::initializer_list<const char *> keys) {
    std::string out;
    for (const char *key : keys)
      out += (out.empty() ? "" : ", ") + std::string(key);
    return out;
  }

  std::optional<VariantIssue> issue;
};

/// One line of printable text, whatever bytes the parser quoted back.
std::string printable(std::string text) {
  for (char &c : text)
    if (static_cast<unsigned char>(c) < 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f)
      c = '?';
  if (text.size() > 160)
    text = text.substr(0, 160) + "...";
  return text;
}

const char *kDocumentAllowed =
    " (allowed: a JSON object with the sections name, problem, reorder, "
    "block, scoring, selection, schedule, adaptive, tail, linear, target)";

} // namespace

VariantResult parseVariantJson(std::string_view text) {
  VariantResult result;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    result.issue = {"document", std::string("is empty") + kDocumentAllowed};
    return result;
  }
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error &e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    std::string what = e.what();
    size_t start = what.find("] ");
    what = start == std::string::npos ? what : what.substr(start + 2);
    result.issue = {"document",
                    "is not valid JSON: " + printable(what) + kDocumentAllowed};
    return result;
  } catch (const std::exception &e) {
    result.issue = {"document", "cannot be read: " + printable(e.what()) +
                                    kDocumentAllowed};
    return result;
  }

  VariantParams v;
  Reader r;
  try {
    if (r.object(doc, "",
                 {"name", "problem", "reorder", "block", "scoring", "selection",
                  "schedule", "adaptive", "tail", "linear", "target"})) {
      r.field(doc, "", "name", v.name);
      // The problem's shape has no sensible default.
      for (const char *required : {"problem"})
        if (r.ok() && !doc.contains(required))
          r.fail(required, "is missing");
      const json &problem = doc.contains("problem") ? doc["problem"] : json();
      if (r.object(problem, "problem",
                   {"batch", "heads", "head_dim", "grid", "text_tokens",
                    "text_position", "dtype", "scale"})) {
        for (const char *required : {"heads", "grid"})
          if (r.ok() && !problem.contains(required))
            r.fail(std::string("problem.") + required, "is missing");
        ProblemParams &p = v.problem;
        r.field(problem, "problem", "batch", p.batch);
        r.field(problem, "problem", "heads", p.heads);
        r.field(problem, "problem", "head_dim", p.headDim);
        r.field(problem, "problem", "grid", p.grid);
        r.field(problem, "problem", "text_tokens", p.textTokens);
        r.field(problem, "problem", "text_position", p.textPosition);
        r.field(problem, "problem", "dtype", p.dtype);
        r.field(problem, "problem", "scale", p.scale);
      }
      auto section = [&](const char *name,
                         std::initializer_list<const char *> keys,
                         auto &&readFields) {
        auto it = doc.find(name);
        if (r.ok() && it != doc.end() && r.object(*it, name, keys))
          readFields(*it);
      };
      section("reorder", {"kind", "tile"}, [&](const json &s) {
        r.field(s, "reorder", "kind", v.reorder.kind);
        r.field(s, "reorder", "tile", v.reorder.tile);
      });
      section("block", {"q", "k"}, [&](const json &s) {
        r.field(s, "block", "q", v.block.q);
        r.field(s, "block", "k", v.block.k);
      });
      section("scoring", {"pool", "aggregate", "levels"}, [&](const json &s) {
        auto pool = s.find("pool");
        if (pool != s.end() && r.object(*pool, "scoring.pool", {"q", "k"})) {
          r.field(*pool, "scoring.pool", "q", v.scoring.poolQ);
          r.field(*pool, "scoring.pool", "k", v.scoring.poolK);
        }
        r.field(s, "scoring", "aggregate", v.scoring.aggregate);
        r.field(s, "scoring", "levels", v.scoring.levels);
        if (r.ok() && s.contains("levels") && v.scoring.levels.empty())
          r.fail("scoring.levels", "is empty");
      });
      section("selection", {"rule", "density", "p", "threshold", "keep"},
              [&](const json &s) {
                r.field(s, "selection", "rule", v.selection.rule);
                r.field(s, "selection", "density", v.selection.density);
                r.field(s, "selection", "p", v.selection.p);
                r.field(s, "selection", "threshold", v.selection.threshold);
                r.field(s, "selection", "keep", v.selection.keep);
              });
      section("schedule",
              {"dense_warmup_steps", "refresh_every", "density_decay",
               "min_density", "density_by_step"},
              [&](const json &s) {
                ScheduleParams &sch = v.schedule;
                r.field(s, "schedule", "dense_warmup_steps",
                        sch.denseWarmupSteps);
                r.field(s, "schedule", "refresh_every", sch.refreshEvery);
                r.field(s, "schedule", "density_decay", sch.densityDecay);
                r.field(s, "schedule", "min_density", sch.minDensity);
                r.field(s, "schedule", "density_by_step", sch.densityByStep);
              });
      section("adaptive",
              {"enabled", "target_recall", "min_density", "max_density"},
              [&](const json &s) {
                // Giving the section turns the adaptive density on.
                v.adaptive.enabled = true;
                r.field(s, "adaptive", "enabled", v.adaptive.enabled);
                r.field(s, "adaptive", "target_recall",
                        v.adaptive.targetRecall);
                r.field(s, "adaptive", "min_density", v.adaptive.minDensity);
                r.field(s, "adaptive", "max_density", v.adaptive.maxDensity);
              });
      section("tail", {"bins"},
              [&](const json &s) { r.field(s, "tail", "bins", v.tail.bins); });
      section("linear", {"enabled", "routing"}, [&](const json &s) {
        r.field(s, "linear", "enabled", v.linear.enabled);
        auto routing = s.find("routing");
        if (routing != s.end() && routing->is_string()) {
          Route route = Route::Hybrid;
          r.read(*routing, "linear.routing", route);
          v.linear.routing = {route};
        } else {
          r.field(s, "linear", "routing", v.linear.routing);
        }
      });
      section("target", {"arch"}, [&](const json &s) {
        r.field(s, "target", "arch", v.target.arch);
      });
    }
  } catch (const std::exception &e) {
    r.fail("document", "cannot be read: " + printable(e.what()));
  }
  if (auto issue = r.take()) {
    result.issue = std::move(*issue);
    return result;
  }
  if (auto issue = validateVariant(v)) {
    result.issue = std::move(*issue);
    return result;
  }
  result.variant = std::move(v);
  return result;
}

VariantResult readVariantFile(const std::string &path) {
  VariantResult result;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    result.issue = {"document", "cannot be opened: no such file"};
    return result;
  }
  if (!S_ISREG(st.st_mode)) {
    result.issue = {"document", "is not a regular file"};
    return result;
  }
  if (size_t(st.st_size) > kMaxVariantFileBytes) {
    result.issue = {"document", "is " + std::to_string(st.st_size) +
                                    " bytes; a variant file is at most " +
                                    std::to_string(kMaxVariantFileBytes) +
                                    " bytes" + kDocumentAllowed};
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.issue = {"document", "cannot be opened for reading"};
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parseVariantJson(text.str());
}

std::string writeVariantJson(const VariantParams &v, int indent) {
  using ojson = nlohmann::ordered_json;
  auto names = [](const auto &values) {
    ojson list = ojson::array();
    for (auto value : values)
      list.push_back(toString(value));
    return list;
  };
  const ProblemParams &p = v.problem;
  ojson problem = {{"batch", p.batch},
                   {"heads", p.heads},
                   {"head_dim", p.headDim},
                   {"grid", p.grid},
                   {"text_tokens", p.textTokens},
                   {"text_position", toString(p.textPosition)},
                   {"dtype", toString(p.dtype)}};
  if (p.scale)
    problem["scale"] = *p.scale;
  ojson densityByStep = ojson::array();
  for (auto [step, density] : v.schedule.densityByStep)
    densityByStep.push_back({step, density});
  ojson routing = v.linear.routing.size() == 1
                      ? ojson(toString(v.linear.routing[0]))
                      : names(v.linear.routing);
  ojson doc = {
      {"name", v.name},
      {"problem", problem},
      {"reorder",
       {{"kind", toString(v.reorder.kind)}, {"tile", v.reorder.tile}}},
      {"block", {{"q", v.block.q}, {"k", v.block.k}}},
      {"scoring",
       {{"pool", {{"q", v.scoring.poolQ}, {"k", v.scoring.poolK}}},
        {"aggregate", toString(v.scoring.aggregate)},
        {"levels", v.levels()}}},
      {"selection",
       {{"rule", toString(v.selection.rule)},
        {"density", v.selection.density},
        {"p", v.selection.p},
        {"threshold", v.selection.threshold},
        {"keep", names(v.selection.keep)}}},
      {"schedule",
       {{"dense_warmup_steps", v.schedule.denseWarmupSteps},
        {"refresh_every", v.schedule.refreshEvery},
        {"density_decay", v.schedule.densityDecay},
        {"min_density", v.schedule.minDensity},
        {"density_by_step", densityByStep}}},
      {"adaptive",
       {{"enabled", v.adaptive.enabled},
        {"target_recall", v.adaptive.targetRecall},
        {"min_density", v.adaptive.minDensity},
        {"max_density", v.adaptive.maxDensity}}},
      {"tail", {{"bins", v.tail.bins}}},
      {"linear", {{"enabled", v.linear.enabled}, {"routing", routing}}},
      {"target", {{"arch", toString(v.target.arch)}}},
  };
  return doc.dump(indent, ' ', false, ojson::error_handler_t::replace) + "\n";
}

} // namespace sattn
