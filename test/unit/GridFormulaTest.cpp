//===- GridFormulaTest.cpp - Grid sizes from the manifest's formulas ------===//

#include "runtime/GridFormula.h"

#include <gtest/gtest.h>

using namespace sattn;

namespace {

const std::map<std::string, int64_t> kNames = {
    {"S", 32760}, {"H", 40}, {"B", 2}, {"NQ", 256}};

int64_t value(const std::string &formula) {
  std::string error;
  std::optional<int64_t> v = evaluateGridFormula(formula, kNames, &error);
  EXPECT_TRUE(v.has_value()) << error;
  return v.value_or(-1);
}

std::string error(const std::string &formula) {
  std::string error;
  EXPECT_FALSE(evaluateGridFormula(formula, kNames, &error).has_value())
      << formula;
  return error;
}

TEST(GridFormula, EvaluatesWhatTheManifestWrites) {
  EXPECT_EQ(value("ceildiv(S, 128)"), 256);
  EXPECT_EQ(value("ceildiv(S, 64)"), 512);
  EXPECT_EQ(value("ceildiv(S,1)"), 32760);
  EXPECT_EQ(value("H"), 40);
  EXPECT_EQ(value("B"), 2);
  EXPECT_EQ(value("1"), 1);
  EXPECT_EQ(value("H * B"), 80);
  EXPECT_EQ(value("ceildiv(S, 16 * 4) + 1"), 513);
  EXPECT_EQ(value("min(NQ, 132) * (B - 1)"), 132);
  EXPECT_EQ(value("max(ceildiv(S, 128), 300)"), 300);
  EXPECT_EQ(value("2 * 3 + 4 * 5 - 6"), 20);
}

TEST(GridFormula, SaysWhatIsWrong) {
  EXPECT_EQ(error("ceildiv(S, X)"), "grid formula \"ceildiv(S, X)\": unknown "
                                    "name X");
  EXPECT_NE(error("ceildiv(S, 0)").find("ceildiv by 0"), std::string::npos);
  EXPECT_NE(error("ceildiv(S 128)").find("takes two arguments"),
            std::string::npos);
  EXPECT_NE(error("sqrt(S, 2)").find("unknown function sqrt"),
            std::string::npos);
  EXPECT_NE(error("H +").find("ends too early"), std::string::npos);
  EXPECT_NE(error("(H").find("missing ')'"), std::string::npos);
  EXPECT_NE(error("H $").find("unexpected '$'"), std::string::npos);
  EXPECT_NE(error("B - H").find("not a grid size"), std::string::npos);
  EXPECT_NE(error("S * S * S").find("out of range"), std::string::npos);
  EXPECT_NE(error("").find("ends too early"), std::string::npos);
}

} // namespace
