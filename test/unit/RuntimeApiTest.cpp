//===- RuntimeApiTest.cpp - The C API without a GPU -----------------------===//
//
// What an engine sees on a machine without a GPU or driver, and with bad
// arguments: a status and a one-line message, never a crash.
//
//===----------------------------------------------------------------------===//

#include "runtime/CudaDriver.h"
#include "runtime/sattn.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace {

bool driverPresent() {
  std::string why;
  return sattn::CudaDriver::get(&why) != nullptr;
}

TEST(RuntimeApi, NoDriverIsAStatusNotACrash) {
  if (driverPresent())
    GTEST_SKIP() << "a CUDA driver is present";
  sattn_context *context = reinterpret_cast<sattn_context *>(0x1);
  EXPECT_EQ(sattn_context_create(0, &context), SATTN_ERROR_NO_DRIVER);
  EXPECT_EQ(context, nullptr);
  std::string message = sattn_last_error();
  EXPECT_NE(message.find("libcuda.so.1"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_STREQ(sattn_status_name(SATTN_ERROR_NO_DRIVER),
               "SATTN_ERROR_NO_DRIVER");
}

TEST(RuntimeApi, NullArgumentsAreRejected) {
  EXPECT_EQ(sattn_context_create(0, nullptr), SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(sattn_last_error()).find("out is null"),
            std::string::npos);
  sattn_kernels *kernels = nullptr;
  EXPECT_EQ(sattn_kernels_load(nullptr, "x.manifest.json", &kernels),
            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(kernels, nullptr);
  EXPECT_EQ(sattn_sparse_attention(nullptr, nullptr, nullptr, nullptr, nullptr,
                                   nullptr, nullptr, nullptr),
            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(sattn_last_error()).find("must not be null"),
            std::string::npos);
  // Destroying null handles is allowed, like free(NULL).
  sattn_context_destroy(nullptr);
  sattn_kernels_destroy(nullptr);
}

TEST(RuntimeApi, LastErrorIsPerThreadAndClearedBySuccess) {
  EXPECT_EQ(sattn_context_create(0, nullptr), SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STRNE(sattn_last_error(), "");
  std::string other;
  std::thread([&] { other = sattn_last_error(); }).join();
  EXPECT_EQ(other, "");
}

} // namespace
