//===- VariantAttrTest.cpp - JSON <-> #sattn.variant <-> JSON -------------===//

#include "dialect/SattnDialect.h"
#include "dialect/SattnOps.h"
#include "dialect/VariantJson.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace sattn;

namespace {

class VariantAttrTest : public ::testing::Test {
protected:
  VariantAttrTest() { ctx.loadDialect<SattnDialect>(); }

  /// Parses attribute text; returns the diagnostics, one per line.
  mlir::Attribute parse(const std::string &text, std::string *errors) {
    mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
      *errors += d.str() + "\n";
      return mlir::success();
    });
    return mlir::parseAttribute(text, &ctx);
  }

  mlir::MLIRContext ctx;
};

const char *kVariants[] = {
    R"({"problem": {"heads": 2, "grid": [3, 4, 5]}})",
    R"({"name": "rich-1", "problem": {"batch": 2, "heads": 3, "head_dim": 64,
        "grid": [2, 7, 9], "text_tokens": 5, "text_position": "first",
        "dtype": "fp16", "scale": 0.125},
        "reorder": {"kind": "hilbert2d", "tile": [1, 2, 3]},
        "block": {"q": 64, "k": 16},
        "scoring": {"pool": {"q": 8, "k": 4}, "aggregate": "logit",
                    "levels": [64, 32, 16]},
        "selection": {"rule": "threshold", "density": 0.5, "p": 0.75,
                      "threshold": 0.002, "keep": ["first_frame"]},
        "schedule": {"dense_warmup_steps": 3, "refresh_every": 2,
                     "density_by_step": [[0, 0.1], [7, 0.33333333333333331]]},
        "adaptive": {"target_recall": 0.9, "min_density": 0.05,
                     "max_density": 0.7},
        "tail": {"bins": 64},
        "linear": {"enabled": true, "routing": ["sparse", "hybrid", "linear"]},
        "target": {"arch": "sm_90a"}})",
    R"({"name": "rich.2", "problem": {"heads": 1, "grid": [21, 30, 52]},
        "selection": {"keep": []}, "adaptive": {"enabled": false,
        "target_recall": 0.5}, "schedule": {"density_decay": 0.1,
        "min_density": 0.1}, "linear": {"routing": "calibrate"},
        "target": {"arch": "sm_80"}})",
};

TEST_F(VariantAttrTest, JsonToAttributeToJsonRoundTrips) {
  for (const char *text : kVariants) {
    VariantResult read = parseVariantJson(text);
    ASSERT_TRUE(read) << read.issue.str();
    VariantAttr attr = VariantAttr::get(&ctx, *read.variant);
    EXPECT_EQ(attr.getParams(), *read.variant);
    EXPECT_EQ(writeVariantJson(attr.getParams()),
              writeVariantJson(*read.variant));

    // And through the textual form of the attribute.
    std::string printed, errors;
    llvm::raw_string_ostream(printed) << attr;
    auto reparsed =
        llvm::dyn_cast_or_null<VariantAttr>(parse(printed, &errors));
    ASSERT_TRUE(reparsed) << printed << "\n" << errors;
    EXPECT_EQ(reparsed, attr) << printed;
    EXPECT_EQ(reparsed.getParams(), *read.variant);
  }
}

TEST_F(VariantAttrTest, DefaultSectionsAreLeftOut) {
  VariantResult read = parseVariantJson(kVariants[0]);
  ASSERT_TRUE(read);
  VariantAttr attr = VariantAttr::get(&ctx, *read.variant);
  EXPECT_FALSE(attr.getReorder());
  EXPECT_FALSE(attr.getTail());
  EXPECT_FALSE(attr.getAdaptive());
  std::string printed;
  llvm::raw_string_ostream(printed) << attr;
  EXPECT_EQ(printed, "#sattn.variant<problem = <heads = 2, grid = [3, 4, 5]>>");
}

/// The same invalid value written as JSON and as an attribute is rejected
/// with the same words.
TEST_F(VariantAttrTest, VerifierUsesTheJsonReadersWording) {
  struct Case {
    std::string json, mlirSections;
  };
  const Case cases[] = {
      {R"("selection": {"density": 0})", "selection = <density = 0.0>"},
      {R"("selection": {"density": 1.5})", "selection = <density = 1.5>"},
      {R"("block": {"q": 96})", "block = <q = 96>"},
      {R"("block": {"k": 48})", "block = <k = 48>"},
      {R"("scoring": {"pool": {"q": 24}})", "scoring = <pool_q = 24>"},
      {R"("block": {"k": 32}, "scoring": {"levels": [32, 128, 32]})",
       "block = <k = 32>, scoring = <levels = [32, 128, 32]>"},
      {R"("block": {"k": 32}, "scoring": {"levels": [128, 64]})",
       "block = <k = 32>, scoring = <levels = [128, 64]>"},
      {R"("reorder": {"kind": "zorder"})", "reorder = <kind = zorder>"},
      {R"("reorder": {"kind": "tile", "tile": [1, 0, 1]})",
       "reorder = <kind = tile, tile = [1, 0, 1]>"},
      {R"("tail": {"bins": 65})", "tail = <bins = 65>"},
      {R"("tail": {"bins": -1})", "tail = <bins = -1>"},
      {R"("target": {"arch": "sm_75"})", "target = <arch = sm_75>"},
  };
  for (const Case &c : cases) {
    std::string json =
        R"({"problem": {"heads": 2, "grid": [3, 4, 5]}, )" + c.json + "}";
    VariantResult read = parseVariantJson(json);
    ASSERT_FALSE(read) << json;
    std::string errors;
    mlir::Attribute attr =
        parse("#sattn.variant<problem = <heads = 2, grid = [3, 4, 5]>, " +
                  c.mlirSections + ">",
              &errors);
    EXPECT_FALSE(attr) << c.mlirSections;
    EXPECT_NE(errors.find(read.issue.str()), std::string::npos)
        << "JSON: " << read.issue.str() << "\nMLIR: " << errors;
  }
  std::string errors;
  EXPECT_FALSE(parse("#sattn.variant<problem = <heads = 2, grid = [3, 0, 5]>>",
                     &errors));
  EXPECT_NE(errors.find("problem.grid: extent 0 is not positive (allowed: "),
            std::string::npos)
      << errors;
}

} // namespace
