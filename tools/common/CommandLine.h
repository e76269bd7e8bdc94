//===- CommandLine.h - getopt helpers of the GPU-side tools -----*- C++ -*-===//
//
// sattn-bench and sattn-tune run on GPU machines and parse their options
// with getopt_long (no llvm::cl); these are the pieces they share: one-line
// errors naming the tool, numbers checked against their range, --help and
// unknown options, and the one positional VARIANT.json.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_TOOLS_COMMON_COMMANDLINE_H
#define SATTN_TOOLS_COMMON_COMMANDLINE_H

#include <cstdio>
#include <cstdlib>
#include <string>

namespace sattn::cli {

/// "TOOL: error: MESSAGE" on stderr, then exit(code).
[[noreturn]] inline void fail(const char *tool, const std::string &message,
                              int code = 1) {
  std::fprintf(stderr, "%s: error: %s\n", tool, message.c_str());
  std::exit(code);
}

/// `text` as a number in [lo, hi], or a one-line error naming --flag.
inline double number(const char *tool, const std::string &flag,
                     const std::string &text, double lo, double hi) {
  char *end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end || !(value >= lo && value <= hi))
    fail(tool, "--" + flag + ": \"" + text + "\" is not a number in [" +
                   std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return value;
}

/// The `default:` and 'h' cases of a getopt loop: usage on stdout and exit 0
/// for --help, on stderr and exit 1 for anything unknown.
[[noreturn]] inline void usage(const char *text, bool asked) {
  std::fputs(text, asked ? stdout : stderr);
  std::exit(asked ? 0 : 1);
}

/// The one positional argument left after getopt_long.
inline std::string onePositional(const char *tool, int argc, char **argv,
                                 int optind) {
  if (optind + 1 != argc)
    fail(tool, "expected one VARIANT.json (see --help)");
  return argv[optind];
}

} // namespace sattn::cli

#endif // SATTN_TOOLS_COMMON_COMMANDLINE_H
