//===- PlanApiTest.cpp - Plans through libsattn.so, without a GPU ---------===//
//
// What an engine sees from the plan API on a machine without a GPU, through
// the public headers and the shared library only: a variant that does not
// parse or validate, or asks for the linear path, is refused before any GPU
// is needed; no driver is a status; null arguments are statuses; the C++
// wrapper throws sattn::Error with the status.
//
//===----------------------------------------------------------------------===//

#include <sattn/sattn.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

const char *kSmall = R"({"name": "plan-api", "problem": {"heads": 2,
    "head_dim": 64, "grid": [2, 8, 16]}, "block": {"q": 64, "k": 32}})";

TEST(PlanApi, AVariantThatDoesNotParseIsRefused) {
  sattn_plan *plan = reinterpret_cast<sattn_plan *>(0x1);
  EXPECT_EQ(sattn_plan_create(nullptr, "{\"problem\": ", &plan),
            SATTN_ERROR_INVALID_VARIANT);
  EXPECT_EQ(plan, nullptr);
  std::string message = sattn_last_error();
  EXPECT_TRUE(contains(message, "sattn_plan_create: ")) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(PlanApi, AVariantThatDoesNotValidateNamesTheField) {
  sattn_plan *plan = nullptr;
  EXPECT_EQ(sattn_plan_create(
                nullptr, R"({"problem": {"heads": 0, "grid": [1, 8, 8]}})",
                &plan),
            SATTN_ERROR_INVALID_VARIANT);
  EXPECT_TRUE(contains(sattn_last_error(), "problem.heads"))
      << sattn_last_error();
}

TEST(PlanApi, TheLinearPathIsRefused) {
  sattn_plan *plan = nullptr;
  EXPECT_EQ(sattn_plan_create(nullptr,
                              R"({"name": "lin", "problem": {"heads": 2,
                                  "grid": [1, 8, 8]},
                                  "linear": {"enabled": true}})",
                              &plan),
            SATTN_ERROR_INVALID_VARIANT);
  EXPECT_TRUE(
      contains(sattn_last_error(), "the linear path has no GPU kernels yet"))
      << sattn_last_error();
}

TEST(PlanApi, NoDriverIsAStatus) {
  sattn_context *context = nullptr;
  sattn_status status = sattn_context_create(0, &context);
  if (status == SATTN_OK) {
    sattn_context_destroy(context);
    GTEST_SKIP() << "a GPU is present";
  }
  EXPECT_TRUE(status == SATTN_ERROR_NO_DRIVER ||
              status == SATTN_ERROR_NO_DEVICE)
      << sattn_status_name(status);
  EXPECT_NE(std::string(sattn_last_error()), "");
  // Without a context a valid variant gets no further, with a reason.
  sattn_plan *plan = nullptr;
  EXPECT_EQ(sattn_plan_create(nullptr, kSmall, &plan),
            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(sattn_last_error(), "context is null"))
      << sattn_last_error();
  // The C++ API says the same with an exception.
  try {
    sattn::Context gpu(0);
    FAIL() << "a context without a GPU";
  } catch (const sattn::Error &e) {
    EXPECT_EQ(e.status(), status);
    EXPECT_TRUE(contains(e.what(), sattn_status_name(status))) << e.what();
  }
}

TEST(PlanApi, NullArgumentsAreRefused) {
  EXPECT_EQ(sattn_plan_create(nullptr, kSmall, nullptr),
            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(sattn_last_error(), "out is null"));
  sattn_plan *plan = nullptr;
  EXPECT_EQ(sattn_plan_create(nullptr, nullptr, &plan),
            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(sattn_last_error(), "variant_json is null"));
  EXPECT_EQ(sattn_run(nullptr, nullptr, nullptr, nullptr, nullptr, 0, nullptr),
            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(sattn_last_error(), "must not be null"));
  sattn_plan_statistics stats;
  EXPECT_EQ(sattn_plan_stats(nullptr, &stats), SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(sattn_plan_set_profiling(nullptr, 1),
            SATTN_ERROR_INVALID_ARGUMENT);
  sattn_kernels_info info;
  EXPECT_EQ(sattn_plan_describe(nullptr, &info), SATTN_ERROR_INVALID_ARGUMENT);
  sattn_plan_destroy(nullptr); // like free(NULL)
}

} // namespace
