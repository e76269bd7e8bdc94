//===- sattn-accuracy.cpp - How close a sparse variant is to dense --------===//
//
//   sattn-accuracy (--q Q.npy --k K.npy --v V.npy --grid T,H,W
//                   | --synthetic NAME [--seed N])
//                  (--variant FILE.json[,FILE.json...] | --oracle topk)
//                  [--kept 0.1,0.2,...] [--bins 0,1,2,...]
//                  [--tail full|normalization-only] [--steps N]
//                  [--json OUT.json] [--plot OUT.png]
//
// Runs the float64 reference (compiler/reference) on the inputs, against
// dense attention: for each kept fraction and bin count the output's MSE and
// relative L2, the exact recall of the kept keys and the density. A table
// goes to stdout, progress to stderr, and the rows to --json (written to a
// temporary file and renamed, so a failed run leaves no partial file).
// Every error is one line `sattn-accuracy: error: FILE-OR-FLAG: what is
// wrong`, with exit code 1.
//
//===----------------------------------------------------------------------===//

#include "compiler/Version.h"
#include "compiler/reference/Attention.h"
#include "compiler/reference/Metrics.h"
#include "compiler/reference/Pipeline.h"
#include "compiler/reference/Reorder.h"
#include "compiler/reference/Schedule.h"
#include "compiler/reference/Sweep.h"
#include "compiler/reference/Synthetic.h"
#include "dialect/VariantJson.h"
#include "tools/sattn-accuracy/NpyFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

using namespace llvm;
using namespace sattn;
using sattn::ref::Tensor;

namespace {

cl::OptionCategory inputCategory("Inputs: .npy files (all of --q --k --v "
                                 "--grid) or synthetic video-like ones");
cl::opt<std::string> qFile("q",
                           cl::desc("Queries: float32 .npy, shape [B, H, "
                                    "S, D], C order (np.save of a "
                                    "float32 array)"),
                           cl::value_desc("FILE"), cl::cat(inputCategory));
cl::opt<std::string> kFile("k", cl::desc("Keys, same shape"),
                           cl::value_desc("FILE"), cl::cat(inputCategory));
cl::opt<std::string> vFile("v", cl::desc("Values, same shape"),
                           cl::value_desc("FILE"), cl::cat(inputCategory));
cl::opt<std::string>
    gridOption("grid",
               cl::desc("The latent video grid T,H,W: S = T*H*W + text tokens, "
                        "video tokens frame-major (t*H*W + y*W + x). Required "
                        "with .npy inputs; for synthetic ones the default is "
                        "the variant's grid, else 8,32,32"),
               cl::value_desc("T,H,W"), cl::cat(inputCategory));
cl::opt<int64_t> textTokens("text",
                            cl::desc("Text tokens in the sequence "
                                     "(default 0)"),
                            cl::value_desc("N"), cl::init(0),
                            cl::cat(inputCategory));
cl::opt<std::string> textPosition("text-position",
                                  cl::desc("Where the text tokens are: first "
                                           "or last (default last)"),
                                  cl::value_desc("first|last"),
                                  cl::init("last"), cl::cat(inputCategory));
cl::opt<double> scaleOption("scale",
                            cl::desc("Softmax scale (default 1/sqrt(D))"),
                            cl::value_desc("X"), cl::cat(inputCategory));
cl::opt<std::string> syntheticName(
    "synthetic",
    cl::desc("Make video-like inputs instead of reading files: video (heads "
             "cycle local, temporal, semantic, sink), local, temporal, "
             "semantic, sink or random. Each head's exact top-10% keys carry "
             "85-95% of the attention mass (see bench/ACCURACY.md)"),
    cl::value_desc("NAME"), cl::cat(inputCategory));
cl::opt<uint64_t> seed("seed",
                       cl::desc("Seed of the synthetic inputs "
                                "(default 0)"),
                       cl::value_desc("N"), cl::init(0),
                       cl::cat(inputCategory));
cl::opt<int64_t> batchOption("batch", cl::desc("Synthetic batch (default 1)"),
                             cl::value_desc("N"), cl::cat(inputCategory));
cl::opt<int64_t> headsOption("heads",
                             cl::desc("Synthetic heads (default: the "
                                      "variant's, else 4)"),
                             cl::value_desc("N"), cl::cat(inputCategory));
cl::opt<int64_t> headDimOption("head-dim",
                               cl::desc("Synthetic head dimension (default: "
                                        "the variant's, else 64)"),
                               cl::value_desc("D"), cl::cat(inputCategory));
cl::opt<int64_t> stepsOption(
    "steps",
    cl::desc("With --synthetic and --variant: run denoising steps 0..N-1 "
             "through the variant's schedule (dense warm-up, mask refresh "
             "and reuse, adaptive density) on inputs that drift from step to "
             "step, one row per step"),
    cl::value_desc("N"), cl::cat(inputCategory));
cl::opt<double> driftOption("drift",
                            cl::desc("How much the synthetic inputs change per "
                                     "step, in (0, 1) (default 0.05)"),
                            cl::value_desc("X"), cl::init(0.05),
                            cl::cat(inputCategory));

cl::OptionCategory methodCategory("What to evaluate (one of)");
cl::opt<std::string> variantFiles(
    "variant",
    cl::desc("The block-sparse pipeline of these variant files (SPEC §3), "
             "comma-separated; their problem section is replaced by the "
             "inputs' shape"),
    cl::value_desc("FILE.json[,...]"), cl::cat(methodCategory));
cl::opt<std::string> oracleOption(
    "oracle",
    cl::desc("topk: token-level exact top-k per query, with per-query tail "
             "bins of the dropped keys (the UTA paper's Table 1 setting)"),
    cl::value_desc("topk"), cl::cat(methodCategory));

cl::OptionCategory sweepCategory("Sweep");
cl::opt<std::string> keptOption(
    "kept",
    cl::desc("Kept fractions in (0, 1]: the oracle's keys per query, a "
             "variant's topk density (default: oracle 0.1,0.2,0.3,0.4,0.5; "
             "variant: its own density, adaptive if enabled)"),
    cl::value_desc("X,Y,..."), cl::cat(sweepCategory));
cl::opt<std::string>
    binsOption("bins",
               cl::desc("Tail bin counts (default: oracle 0,1,2,4,8,16,32; "
                        "variant: its tail.bins); 0 is plain top-k"),
               cl::value_desc("N,M,..."), cl::cat(sweepCategory));
cl::opt<std::string> tailOption(
    "tail",
    cl::desc("full (UTA: the bins' logits and values) or normalization-only "
             "(the ablation: the bins' mass joins the softmax denominator "
             "only) (default full)"),
    cl::value_desc("MODE"), cl::init("full"), cl::cat(sweepCategory));

cl::OptionCategory outputCategory("Outputs");
cl::opt<std::string> jsonFile("json",
                              cl::desc("Write the rows as JSON: {method, kept, "
                                       "bins, density, mse, rel_l2, recall, "
                                       "...}"),
                              cl::value_desc("OUT.json"),
                              cl::cat(outputCategory));
cl::opt<std::string> plotFile(
    "plot",
    cl::desc("Draw MSE against kept fraction, one line per method and bin "
             "count (with --steps: density and recall per head against "
             "step), with python3-matplotlib"),
    cl::value_desc("OUT.png"), cl::cat(outputCategory));
cl::opt<std::string> saveInputs("save-inputs",
                                cl::desc("Also write the inputs (step 0) as "
                                         "DIR/q.npy, k.npy, v.npy (float32)"),
                                cl::value_desc("DIR"), cl::cat(outputCategory));
cl::opt<bool> quiet("quiet", cl::desc("No progress on stderr"),
                    cl::cat(outputCategory));

/// printf into a std::string.
template <typename... Args> std::string text(const char *form, Args... args) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, form, args...);
  return buffer;
}

[[noreturn]] void fail(const Twine &where, const Twine &what) {
  errs() << "sattn-accuracy: error: " << where << ": " << what << "\n";
  std::exit(1);
}

void note(const Twine &message) {
  if (!quiet)
    errs() << "sattn-accuracy: " << message << "\n";
}

// --- Parsing the list flags --------------------------------------------===//

std::vector<std::string> splitList(const std::string &text) {
  SmallVector<StringRef> parts;
  StringRef(text).split(parts, ',');
  std::vector<std::string> out;
  for (StringRef p : parts)
    out.push_back(p.trim().str());
  return out;
}

std::vector<double> parseKept(const std::string &flag,
                              const std::string &text) {
  std::vector<double> out;
  for (const std::string &item : splitList(text)) {
    double value;
    if (item.empty() || StringRef(item).getAsDouble(value))
      fail(flag, "\"" + item + "\" is not a number");
    if (!(value > 0 && value <= 1))
      fail(flag, item + " is outside (0, 1]");
    out.push_back(value);
  }
  return out;
}

std::vector<int64_t> parseCounts(const std::string &flag,
                                 const std::string &text, int64_t min) {
  std::vector<int64_t> out;
  for (const std::string &item : splitList(text)) {
    long long value;
    if (item.empty() || StringRef(item).getAsInteger(10, value))
      fail(flag, "\"" + item + "\" is not an integer");
    if (value < min)
      fail(flag, item + " is below " + std::to_string(min));
    out.push_back(value);
  }
  return out;
}

std::vector<int64_t> parseGrid(const std::string &text) {
  std::vector<int64_t> grid = parseCounts("--grid", text, 1);
  if (grid.size() != 3)
    fail("--grid", "\"" + text + "\" needs three extents T,H,W");
  return grid;
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// --- Inputs ------------------------------------------------------------===//

struct Inputs {
  ProblemParams problem; // shape, text layout and scale of q, k, v
  Tensor q, k, v;
  json::Object description;
};

Tensor loadTensor(const std::string &flag, const std::string &path) {
  std::string error;
  std::optional<NpyArray> array = readNpyFloat32(path, error);
  if (!array)
    fail(path, error);
  if (array->shape.size() != 4)
    fail(path, "has shape " + shapeText(array->shape) +
                   "; needs 4 dimensions [B, H, S, D]");
  for (int64_t extent : array->shape)
    if (extent <= 0)
      fail(path, "has shape " + shapeText(array->shape) +
                     "; every dimension must be positive");
  Tensor t(array->shape);
  int64_t h = t.dim(1), s = t.dim(2), d = t.dim(3);
  for (size_t i = 0; i < array->data.size(); ++i) {
    float x = array->data[i];
    if (!std::isfinite(x)) {
      int64_t n = int64_t(i);
      fail(path, std::string("element [") + std::to_string(n / (h * s * d)) +
                     ", " + std::to_string(n / (s * d) % h) + ", " +
                     std::to_string(n / d % s) + ", " + std::to_string(n % d) +
                     "] is " + (std::isnan(x) ? "NaN" : "infinite"));
    }
    t.data[i] = double(x);
  }
  (void)flag;
  return t;
}

TextPosition parseTextPosition() {
  std::optional<TextPosition> position =
      parseEnum<TextPosition>(textPosition.getValue());
  if (!position)
    fail("--text-position", unknownEnumMessage<TextPosition>(textPosition));
  return *position;
}

Inputs readInputs() {
  for (auto *flag : {&qFile, &kFile, &vFile})
    if (flag->empty())
      fail("--" + flag->ArgStr, "missing: .npy inputs need all of --q, --k, "
                                "--v and --grid");
  if (gridOption.empty())
    fail("--grid", "missing: .npy inputs need the latent grid T,H,W to know "
                   "which token is where");
  Inputs in;
  in.q = loadTensor("--q", qFile);
  in.k = loadTensor("--k", kFile);
  in.v = loadTensor("--v", vFile);
  if (in.k.shape != in.q.shape)
    fail(kFile, "has shape " + shapeText(in.k.shape) + " but " + qFile +
                    " has " + shapeText(in.q.shape) + "; q, k, v must match");
  if (in.v.shape != in.q.shape)
    fail(vFile, "has shape " + shapeText(in.v.shape) + " but " + qFile +
                    " has " + shapeText(in.q.shape) + "; q, k, v must match");
  ProblemParams &p = in.problem;
  p.batch = in.q.dim(0);
  p.heads = in.q.dim(1);
  p.headDim = in.q.dim(3);
  p.grid = parseGrid(gridOption);
  if (textTokens < 0)
    fail("--text", std::to_string(textTokens) + " is negative");
  p.textTokens = textTokens;
  p.textPosition = parseTextPosition();
  if (p.seqLen() != in.q.dim(2))
    fail("--grid",
         std::to_string(p.grid[0]) + "x" + std::to_string(p.grid[1]) + "x" +
             std::to_string(p.grid[2]) + " + " + std::to_string(p.textTokens) +
             " text tokens = " + std::to_string(p.seqLen()) + " tokens, but " +
             qFile + " has S = " + std::to_string(in.q.dim(2)));
  in.description = json::Object{{"source", "npy"},
                                {"q", qFile.getValue()},
                                {"k", kFile.getValue()},
                                {"v", vFile.getValue()}};
  return in;
}

ref::SyntheticSpec syntheticSpec(const VariantParams *variant) {
  if (!ref::syntheticKinds(syntheticName, 1)) {
    std::string names;
    for (const std::string &n : ref::syntheticNames())
      names += (names.empty() ? "" : ", ") + n;
    fail("--synthetic",
         "unknown name \"" + syntheticName + "\" (allowed: " + names + ")");
  }
  // The variant's shape, unless flags say otherwise.
  ref::SyntheticSpec spec =
      variant ? ref::specFor(variant->problem) : ref::SyntheticSpec();
  spec.name = syntheticName;
  spec.seed = seed;
  if (batchOption.getNumOccurrences())
    spec.batch = batchOption;
  if (headsOption.getNumOccurrences())
    spec.heads = headsOption;
  if (headDimOption.getNumOccurrences())
    spec.headDim = headDimOption;
  if (!gridOption.empty())
    spec.grid = parseGrid(gridOption);
  if (textTokens.getNumOccurrences())
    spec.textTokens = textTokens;
  if (textPosition.getNumOccurrences())
    spec.textPosition = parseTextPosition();
  for (auto [flag, value] :
       {std::pair<const char *, int64_t>{"--batch", spec.batch},
        {"--heads", spec.heads},
        {"--head-dim", spec.headDim}})
    if (value < 1 || value > 65535)
      fail(flag, std::to_string(value) + " is outside [1, 65535]");
  if (spec.textTokens < 0)
    fail("--text", std::to_string(spec.textTokens) + " is negative");
  if (!(driftOption > 0 && driftOption < 1))
    fail("--drift", formatDouble(driftOption) + " is outside (0, 1)");
  spec.drift = driftOption;
  return spec;
}

Inputs makeInputs(const ref::SyntheticSpec &spec) {
  ref::SyntheticInputs made = ref::makeSynthetic(spec);
  Inputs in;
  in.q = std::move(made.q);
  in.k = std::move(made.k);
  in.v = std::move(made.v);
  in.problem = ref::problemOf(spec);
  json::Array kinds, shares;
  for (ref::SyntheticHead kind : made.kinds)
    kinds.push_back(ref::toString(kind));
  for (double share : made.topTenthShare)
    shares.push_back(share);
  in.description = json::Object{
      {"source", "synthetic"},          {"name", spec.name},
      {"seed", int64_t(spec.seed)},     {"drift", spec.drift},
      {"head_kinds", std::move(kinds)}, {"top10_share", std::move(shares)}};
  return in;
}

void describeInputs(Inputs &in) {
  const ProblemParams &p = in.problem;
  in.description["batch"] = p.batch;
  in.description["heads"] = p.heads;
  in.description["seq_len"] = p.seqLen();
  in.description["head_dim"] = p.headDim;
  in.description["grid"] = json::Array{p.grid[0], p.grid[1], p.grid[2]};
  in.description["text_tokens"] = p.textTokens;
  in.description["text_position"] = toString(p.textPosition);
  in.description["scale"] = p.softmaxScale();
}

void writeInputs(const Inputs &in) {
  if (std::error_code ec = sys::fs::create_directories(saveInputs))
    fail(saveInputs, "cannot create: " + ec.message());
  for (auto [name, t] : {std::pair<const char *, const Tensor *>{"q", &in.q},
                         {"k", &in.k},
                         {"v", &in.v}}) {
    NpyArray array{t->shape,
                   std::vector<float>(t->data.begin(), t->data.end())};
    SmallString<256> path(saveInputs.getValue());
    sys::path::append(path, std::string(name) + ".npy");
    std::string error;
    if (!writeNpyFloat32(path.str().str(), array, error))
      fail(path, error);
  }
  note("wrote the inputs to " + saveInputs + "/{q,k,v}.npy");
}

// --- Rows --------------------------------------------------------------===//

struct Row {
  std::string method;
  ref::SweepPoint point;
  std::optional<int64_t> step;
  bool dense = false, refreshed = false;
  std::vector<double> scheduleDensity; // per head, steps only
};

/// A number in its shortest exact form ("0.1", not 0.10000000000000001).
void number(json::OStream &j, double x) {
  if (std::isfinite(x))
    j.rawValue(formatDouble(x));
  else
    j.value(nullptr);
}

void numbers(json::OStream &j, const std::vector<double> &values) {
  j.array([&] {
    for (double v : values)
      number(j, v);
  });
}

/// One row, keys in a fixed order: {method, kept, bins, tail, density, mse,
/// rel_l2, recall, head_density, head_recall[, step, dense, refreshed,
/// schedule_density]}.
void writeRow(json::OStream &j, const Row &row, const char *tail) {
  j.object([&] {
    j.attribute("method", row.method);
    j.attributeBegin("kept");
    number(j, row.point.kept);
    j.attributeEnd();
    j.attribute("bins", row.point.bins);
    j.attribute("tail", tail);
    for (auto [key, value] :
         {std::pair<const char *, double>{"density", row.point.density},
          {"mse", row.point.mse},
          {"rel_l2", row.point.relL2},
          {"recall", row.point.recall}}) {
      j.attributeBegin(key);
      number(j, value);
      j.attributeEnd();
    }
    j.attributeBegin("head_density");
    numbers(j, row.point.headDensity);
    j.attributeEnd();
    j.attributeBegin("head_recall");
    numbers(j, row.point.headRecall);
    j.attributeEnd();
    if (row.step) {
      j.attribute("step", *row.step);
      j.attribute("dense", row.dense);
      j.attribute("refreshed", row.refreshed);
      j.attributeBegin("schedule_density");
      numbers(j, row.scheduleDensity);
      j.attributeEnd();
    }
  });
}

/// `value` with its doubles in their shortest exact form (llvm::json prints
/// 17 digits), keys sorted.
void writeValue(json::OStream &j, const json::Value &value) {
  if (const json::Object *o = value.getAsObject()) {
    std::vector<std::string> keys;
    for (const auto &entry : *o)
      keys.push_back(entry.first.str());
    std::sort(keys.begin(), keys.end());
    j.object([&] {
      for (const std::string &key : keys) {
        j.attributeBegin(key);
        writeValue(j, *o->get(key));
        j.attributeEnd();
      }
    });
  } else if (const json::Array *a = value.getAsArray()) {
    j.array([&] {
      for (const json::Value &v : *a)
        writeValue(j, v);
    });
  } else if (value.kind() == json::Value::Number && !value.getAsInteger()) {
    number(j, *value.getAsNumber());
  } else {
    j.value(value);
  }
}

/// The whole document: a header, the inputs on one line, one row a line.
std::string jsonDocument(const std::string &command, json::Object inputs,
                         const std::vector<Row> &rows, const char *tail) {
  std::string out;
  raw_string_ostream os(out);
  os << "{\n  \"tool\": \"sattn-accuracy\",\n  \"version\": "
     << json::Value(SATTN_COMPILER_VERSION)
     << ",\n  \"command\": " << json::Value(command) << ",\n  \"inputs\": ";
  {
    json::OStream j(os);
    writeValue(j, json::Value(std::move(inputs)));
  }
  os << ",\n  \"rows\": [";
  for (size_t i = 0; i < rows.size(); ++i) {
    os << (i ? ",\n    " : "\n    ");
    json::OStream j(os);
    writeRow(j, rows[i], tail);
  }
  os << "\n  ]\n}\n";
  os.flush();
  return out;
}

void printTable(const std::vector<Row> &rows, bool steps) {
  // MSE reduction against the same method and kept fraction without bins.
  std::map<std::pair<std::string, double>, double> plain;
  for (const Row &r : rows)
    if (r.point.bins == 0 && !r.step)
      plain[{r.method, r.point.kept}] = r.point.mse;
  size_t width = 12;
  for (const Row &r : rows)
    width = std::max(width, r.method.size() + 1);
  outs() << left_justify("method", unsigned(width)) << (steps ? "  step" : "")
         << "    kept  bins  density   recall         mse      rel_l2"
         << (steps ? "" : "   vs bins=0") << "\n";
  for (const Row &r : rows) {
    outs() << left_justify(r.method, unsigned(width));
    if (steps)
      outs() << format("  %4lld", (long long)*r.step);
    outs() << format("  %6.3f  %4lld  %7.4f  %7.4f  %10.3e  %10.3e",
                     r.point.kept, (long long)r.point.bins, r.point.density,
                     r.point.recall, r.point.mse, r.point.relL2);
    auto base = plain.find({r.method, r.point.kept});
    if (!steps && r.point.bins > 0 && base != plain.end() && base->second > 0)
      outs() << format("  %+9.3f%%", 100 * (r.point.mse / base->second - 1));
    if (steps)
      outs() << (r.dense ? "  dense" : r.refreshed ? "  refresh" : "  reuse");
    outs() << "\n";
  }
  outs().flush();
}

// --- Outputs -----------------------------------------------------------===//

/// A new empty file next to `path`, named like it with `suffix`.
std::string tempFileFor(const std::string &path, const char *suffix = "") {
  int fd;
  SmallString<256> temp;
  if (std::error_code ec =
          sys::fs::createUniqueFile(path + ".tmp-%%%%%%" + suffix, fd, temp))
    fail(path, "cannot create: " + ec.message());
  sys::Process::SafelyCloseFileDescriptor(fd);
  return temp.str().str();
}

/// The Python that has matplotlib: $SATTN_PYTHON, else Debian's
/// /usr/bin/python3 (where scripts/dev.sh installs python3-matplotlib, even
/// when another python3 comes first on PATH), else python3 on PATH.
std::optional<std::string> findPython() {
  if (std::optional<std::string> env = sys::Process::GetEnv("SATTN_PYTHON"))
    return env;
  if (sys::fs::can_execute("/usr/bin/python3"))
    return std::string("/usr/bin/python3");
  if (ErrorOr<std::string> path = sys::findProgramByName("python3"))
    return *path;
  return std::nullopt;
}

void writeText(const std::string &path, const std::string &text,
               const std::vector<std::string> &cleanup) {
  std::error_code ec;
  raw_fd_ostream out(path, ec);
  if (!ec) {
    out << text;
    out.close();
    if (out.has_error()) {
      ec = out.error();
      out.clear_error();
    }
  }
  if (ec) {
    for (const std::string &f : cleanup)
      sys::fs::remove(f);
    fail(path, "cannot write: " + ec.message());
  }
}

/// The plot script: next to the executable (copied there by the build),
/// else in the source tree.
std::string plotScript(const char *argv0) {
  std::string exe = sys::fs::getMainExecutable(argv0, (void *)&plotScript);
  SmallString<256> next(sys::path::parent_path(exe));
  sys::path::append(next, "sattn-accuracy-plot.py");
  if (sys::fs::exists(next))
    return next.str().str();
  return SATTN_ACCURACY_PLOT_SCRIPT;
}

/// Writes the JSON and the plot through temporary files and renames them
/// into place only when both exist.
void writeOutputs(const std::string &document, const char *argv0) {
  std::vector<std::string> temps;
  std::string jsonTemp;
  if (!jsonFile.empty()) {
    jsonTemp = tempFileFor(jsonFile);
  } else if (!plotFile.empty()) {
    SmallString<256> path;
    if (std::error_code ec =
            sys::fs::createTemporaryFile("sattn-accuracy", "json", path))
      fail("--plot", "cannot create a temporary file: " + ec.message());
    jsonTemp = path.str().str();
  }
  if (jsonTemp.empty())
    return;
  temps.push_back(jsonTemp);
  writeText(jsonTemp, document, temps);

  std::string plotTemp;
  if (!plotFile.empty()) {
    plotTemp = tempFileFor(plotFile, ".png");
    temps.push_back(plotTemp);
    std::optional<std::string> python = findPython();
    if (!python) {
      for (const std::string &f : temps)
        sys::fs::remove(f);
      fail("--plot", "python3 not found (scripts/dev.sh installs "
                     "python3-matplotlib)");
    }
    std::string script = plotScript(argv0), message;
    SmallVector<StringRef> args = {*python, script, jsonTemp, plotTemp};
    int rc =
        sys::ExecuteAndWait(*python, args, std::nullopt, {}, 0, 0, &message);
    if (rc != 0 || !sys::fs::exists(plotTemp)) {
      for (const std::string &f : temps)
        sys::fs::remove(f);
      fail("--plot", "the plot script " + script + " failed" +
                         (message.empty() ? "" : ": " + message) +
                         " (python3-matplotlib installed?)");
    }
  }
  auto place = [&](const std::string &from, const std::string &to) {
    if (std::error_code ec = sys::fs::rename(from, to)) {
      for (const std::string &f : temps)
        sys::fs::remove(f);
      fail(to, "cannot write: " + ec.message());
    }
  };
  if (!plotTemp.empty()) {
    place(plotTemp, plotFile);
    note("wrote " + plotFile);
  }
  if (!jsonFile.empty()) {
    place(jsonTemp, jsonFile);
    note("wrote " + jsonFile);
  } else {
    sys::fs::remove(jsonTemp);
  }
}

// --- Evaluation --------------------------------------------------------===//

/// Progress lines on stderr: at most one per tenth of each stage and one
/// every 2 seconds, so that short runs stay quiet.
ref::SweepProgress progressPrinter() {
  if (quiet)
    return {};
  using Clock = std::chrono::steady_clock;
  struct State {
    Clock::time_point start = Clock::now(), last = Clock::now();
    std::map<std::string, int> tenth;
  };
  auto state = std::make_shared<State>();
  return [state](double fraction, const std::string &what) {
    int tenth = int(fraction * 10 + 1e-9);
    Clock::time_point now = Clock::now();
    int &printed = state->tenth[what];
    if (tenth <= printed || now - state->last < std::chrono::seconds(2))
      return;
    printed = tenth;
    state->last = now;
    errs() << "sattn-accuracy: " << what << ": " << tenth * 10 << "% ("
           << format("%.1f",
                     std::chrono::duration<double>(now - state->start).count())
           << " s)\n";
  };
}

/// The variant with its problem replaced by the inputs' shape.
VariantParams fitVariant(const std::string &file, VariantParams v,
                         const ProblemParams &inputs) {
  ProblemParams &p = v.problem;
  if (p.batch != inputs.batch || p.heads != inputs.heads ||
      p.headDim != inputs.headDim || p.grid != inputs.grid ||
      p.textTokens != inputs.textTokens ||
      (p.textTokens && p.textPosition != inputs.textPosition))
    note(file + ": problem replaced by the inputs' shape: batch " +
         std::to_string(inputs.batch) + ", heads " +
         std::to_string(inputs.heads) + ", head_dim " +
         std::to_string(inputs.headDim) + ", grid " + shapeText(inputs.grid) +
         ", " + std::to_string(inputs.textTokens) + " text tokens");
  std::optional<double> scale = p.scale;
  p = inputs;
  if (!inputs.scale && scale)
    p.scale = scale;
  if (v.linear.routing.size() > 1 &&
      int64_t(v.linear.routing.size()) != p.heads)
    fail(file, "linear.routing: has " +
                   std::to_string(v.linear.routing.size()) + " entries for " +
                   std::to_string(p.heads) + " heads in the inputs");
  return v;
}

/// Steps 0..N-1 of every (variant, bin count) on the same drifting inputs:
/// each step's inputs and dense attention are made once.
std::vector<Row> evaluateSteps(
    const std::vector<std::pair<std::string, VariantParams>> &variants,
    const ref::SyntheticSpec &spec, const ProblemParams &problem,
    const std::vector<int64_t> &bins) {
  std::vector<ref::VariantRunner> runners;
  for (const auto &[file, base] : variants)
    for (int64_t binCount : bins) {
      VariantParams variant = fitVariant(file, base, problem);
      variant.tail.bins = binCount;
      runners.emplace_back(variant);
    }
  double scale = problem.softmaxScale();
  size_t heads = size_t(problem.batch * problem.heads);
  std::vector<std::vector<Row>> perRunner(runners.size());
  for (int64_t step = 0; step < stepsOption; ++step) {
    ref::SyntheticSpec at = spec;
    at.step = step;
    Inputs in = makeInputs(at);
    Tensor denseLse;
    Tensor dense = ref::denseAttention(in.q, in.k, in.v, scale, &denseLse);
    for (size_t r = 0; r < runners.size(); ++r) {
      const VariantParams &variant = runners[r].variant();
      ref::VariantOutput out = runners[r].step(in.q, in.k, in.v, step);
      Row row;
      row.method = variant.name;
      row.step = step;
      row.dense = out.dense;
      row.refreshed = out.refreshed;
      row.point.bins = variant.tail.bins;
      row.point.mse = ref::meanSquaredError(out.output, dense);
      row.point.relL2 = ref::relativeL2(out.output, dense);
      if (out.dense) {
        row.point.kept = 1;
        row.point.density = 1;
        row.point.recall = 1;
        row.point.headDensity.assign(heads, 1.0);
        row.point.headRecall.assign(heads, 1.0);
        row.scheduleDensity.assign(heads, 1.0);
      } else {
        // The true recall of the (possibly reused) mask on this step's
        // inputs.
        const ref::Mask &mask = *out.mask;
        Tensor keptLse = ref::keptLogSumExp(ref::reorder(in.q, mask.order),
                                            ref::reorder(in.k, mask.order),
                                            mask.lists(), scale);
        Tensor lse = ref::reorder(denseLse, mask.order);
        row.point.kept = ref::planStep(variant, step).density;
        row.point.density = ref::listDensity(mask.lists());
        row.point.headDensity = ref::headDensities(mask.lists());
        row.point.recall = ref::meanRecall(keptLse, lse);
        row.point.headRecall = ref::headRecall(keptLse, lse);
        row.scheduleDensity = mask.headDensity;
      }
      note(variant.name + ": step " + std::to_string(step) + " (" +
           (row.dense       ? "dense"
            : row.refreshed ? "refresh"
                            : "reuse") +
           text("): recall %.4f, density %.4f", row.point.recall,
                row.point.density));
      perRunner[r].push_back(std::move(row));
    }
  }
  std::vector<Row> rows;
  for (std::vector<Row> &run : perRunner)
    for (Row &row : run)
      rows.push_back(std::move(row));
  return rows;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(
      {&inputCategory, &methodCategory, &sweepCategory, &outputCategory});
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "sattn-accuracy: " << SATTN_COMPILER_VERSION << "\n";
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "sattn-accuracy: how close a sparse-attention variant (or the "
      "token-level top-k oracle) comes to dense attention, in float64.\n\n"
      "  sattn-accuracy --synthetic video --oracle topk --kept "
      "0.1,0.3,0.5 --bins 0,1,4\n"
      "  sattn-accuracy --q q.npy --k k.npy --v v.npy --grid 21,30,52 "
      "--variant examples/wan2.1-480p.json --kept 0.1,0.2 --json out.json\n\n"
      "For each kept fraction and bin count it prints the output's MSE and "
      "relative L2 against dense attention, the exact recall (softmax mass "
      "of the kept keys, averaged over queries) and the density (kept "
      "query-key pairs / all).\n");
  auto start = std::chrono::steady_clock::now();

  // What to evaluate.
  bool useOracle = oracleOption.getNumOccurrences() > 0;
  if (useOracle == !variantFiles.empty())
    fail(useOracle ? "--oracle" : "--variant",
         useOracle ? "give either --oracle or --variant, not both"
                   : "missing: give --variant FILE.json or --oracle topk");
  if (useOracle && oracleOption != "topk")
    fail("--oracle", "unknown oracle \"" + oracleOption + "\" (allowed: topk)");
  ref::TailMode mode = ref::TailMode::Full;
  if (tailOption == "normalization-only")
    mode = ref::TailMode::NormalizationOnly;
  else if (tailOption != "full")
    fail("--tail", "unknown mode \"" + tailOption +
                       "\" (allowed: full, normalization-only)");
  const char *tailName =
      mode == ref::TailMode::Full ? "full" : "normalization-only";
  std::vector<double> kept;
  if (!keptOption.empty())
    kept = parseKept("--kept", keptOption);
  std::vector<int64_t> bins;
  if (!binsOption.empty())
    bins = parseCounts("--bins", binsOption, 0);

  std::vector<std::pair<std::string, VariantParams>> variants;
  for (const std::string &file : splitList(variantFiles)) {
    if (file.empty())
      continue;
    VariantResult read = readVariantFile(file);
    if (!read)
      fail(file, read.issue.str());
    const VariantParams &v = *read.variant;
    if (!kept.empty() && v.selection.rule != SelectionRule::TopK)
      fail("--kept", file + " uses selection.rule " +
                         toString(v.selection.rule) +
                         "; --kept sets a topk density");
    if (mode != ref::TailMode::Full && v.linear.enabled)
      fail("--tail", file + " has linear.enabled; normalization-only applies "
                            "to the sparse path alone");
    variants.push_back({file, v});
  }

  // Inputs.
  bool synthetic = !syntheticName.empty();
  if (synthetic && (!qFile.empty() || !kFile.empty() || !vFile.empty()))
    fail("--synthetic", "give either --synthetic or --q/--k/--v, not both");
  if (!synthetic && qFile.empty() && kFile.empty() && vFile.empty())
    fail("--q", "missing: give --q/--k/--v with --grid, or --synthetic NAME");
  if (stepsOption.getNumOccurrences()) {
    if (!synthetic || useOracle)
      fail("--steps", "needs --synthetic and --variant (the steps follow the "
                      "variant's schedule on drifting synthetic inputs)");
    if (stepsOption < 1 || stepsOption > 10000)
      fail("--steps", std::to_string(stepsOption) + " is outside [1, 10000]");
    if (!kept.empty())
      fail("--kept", "not with --steps: the variant's schedule sets the "
                     "density at each step");
  }
  ref::SyntheticSpec spec;
  Inputs in;
  if (synthetic) {
    spec = syntheticSpec(variants.empty() ? nullptr : &variants[0].second);
    if (spec.grid[0] * spec.grid[1] * spec.grid[2] > (int64_t(1) << 24))
      fail("--grid", "more than 16777216 video tokens");
    in = makeInputs(spec);
  } else {
    in = readInputs();
  }
  if (scaleOption.getNumOccurrences()) {
    if (!(scaleOption > 0 && std::isfinite(scaleOption)))
      fail("--scale", formatDouble(scaleOption) + " is not a positive number");
    in.problem.scale = scaleOption;
  }
  describeInputs(in);
  {
    std::string shares;
    if (const json::Array *a = in.description.getArray("top10_share"))
      for (const json::Value &v : *a)
        shares += text(" %.2f", *v.getAsNumber());
    note("inputs: " +
         std::string(synthetic ? "synthetic " + spec.name + " seed " +
                                     std::to_string(spec.seed)
                               : "q, k, v from .npy") +
         ", [" + std::to_string(in.problem.batch) + ", " +
         std::to_string(in.problem.heads) + ", " +
         std::to_string(in.problem.seqLen()) + ", " +
         std::to_string(in.problem.headDim) + "]" +
         (shares.empty() ? "" : "; exact top-10% share per head:" + shares));
  }
  if (!saveInputs.empty())
    writeInputs(in);

  // Evaluation.
  std::vector<Row> rows;
  ref::SweepProgress progress = progressPrinter();
  bool steps = stepsOption.getNumOccurrences() > 0;
  if (useOracle) {
    if (kept.empty())
      kept = {0.1, 0.2, 0.3, 0.4, 0.5};
    if (bins.empty())
      bins = {0, 1, 2, 4, 8, 16, 32};
    for (const ref::SweepPoint &p :
         ref::sweepOracle(in.q, in.k, in.v, in.problem.softmaxScale(), kept,
                          bins, mode, progress))
      rows.push_back({"oracle-topk", p, std::nullopt, false, false, {}});
  } else if (steps) {
    if (bins.empty())
      bins = {variants[0].second.tail.bins};
    rows = evaluateSteps(variants, spec, in.problem, bins);
  } else {
    // Dense attention once for all variants.
    ref::DenseReference dense;
    dense.output = ref::denseAttention(in.q, in.k, in.v,
                                       in.problem.softmaxScale(), &dense.lse);
    for (const auto &[file, v] : variants) {
      VariantParams fitted = fitVariant(file, v, in.problem);
      if (kept.empty() && fitted.adaptive.enabled)
        note(file + ": adaptive density (kept column: selection.density)");
      for (const ref::SweepPoint &p : ref::sweepBlocks(
               fitted, in.q, in.k, in.v, kept, bins, mode, progress, &dense))
        rows.push_back({fitted.name, p, std::nullopt, false, false, {}});
    }
  }

  printTable(rows, steps);
  std::string command = "sattn-accuracy";
  for (int i = 1; i < argc; ++i)
    command += std::string(" ") + argv[i];
  std::string jsonText =
      jsonDocument(command, std::move(in.description), rows, tailName);
  writeOutputs(jsonText, argv[0]);
  note(text("done in %.1f s", std::chrono::duration<double>(
                                  std::chrono::steady_clock::now() - start)
                                  .count()));
  return 0;
}
