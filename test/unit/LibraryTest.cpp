//===- LibraryTest.cpp - libsattn.so as an engine links it ----------------===//
//
// Links the shipped shared library and nothing else of sattn, through the
// public headers only (sattn.h, sattn.hpp): the compiler inside it compiles
// the example variants in process, byte for byte as sattnc does; bad
// variants, bad arguments and a missing GPU come back as statuses (and as
// sattn::Error in C++), and two threads may compile at once.
//
//===----------------------------------------------------------------------===//

#include <sattn/sattn.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string example(const std::string &name) {
  return readFile(std::string(SATTN_EXAMPLES_DIR) + "/" + name + ".json");
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

TEST(Library, CompilesEachExampleForBothArchitectures) {
  for (const char *name :
       {"wan2.1-480p", "wan2.1-720p", "hunyuan-720p", "cogvideox-5b"}) {
    for (const char *arch : {"sm_80", "sm_90a"}) {
      char *ptx = nullptr, *manifest = nullptr;
      ASSERT_EQ(sattn_compile(example(name).c_str(), arch, &ptx, &manifest),
                SATTN_OK)
          << name << " " << arch << ": " << sattn_last_error();
      std::string ptxText = ptx, manifestText = manifest;
      sattn_free(ptx);
      sattn_free(manifest);
      EXPECT_TRUE(contains(ptxText, std::string(".target ") + arch)) << name;
      EXPECT_TRUE(contains(ptxText, ".entry sattn_sparse_attention("));
      EXPECT_TRUE(
          contains(manifestText, std::string("\"arch\": \"") + arch + "\""))
          << manifestText.substr(0, 400);
      EXPECT_TRUE(contains(manifestText, "\"sattn_sparse_attention\""));
    }
  }
}

TEST(Library, ProducesTheSamePtxAsSattnc) {
  // The GPU bundle (scripts/gpu-bundle.sh) carries this test without the
  // build tree's sattnc; the comparison runs wherever the build tree is.
  if (::access(SATTNC, X_OK) != 0)
    GTEST_SKIP() << "no sattnc at " << SATTNC;
  std::string folder =
      ::testing::TempDir() + "/sattn-library-" + std::to_string(::getpid());
  std::string command = std::string("'") + SATTNC +
                        "' --quiet --arch sm_90a '" + SATTN_EXAMPLES_DIR +
                        "/cogvideox-5b.json' -o '" + folder + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::string fromTool = readFile(folder + "/cogvideox-5b.ptx");
  std::string manifestFromTool =
      readFile(folder + "/cogvideox-5b.manifest.json");
  EXPECT_EQ(std::system(("rm -rf '" + folder + "'").c_str()), 0);

  sattn::CompiledVariant fromLibrary =
      sattn::compile(example("cogvideox-5b"), "sm_90a");
  // Compared as booleans: a mismatch of two long texts is unreadable.
  EXPECT_TRUE(fromLibrary.ptx == fromTool)
      << "libsattn.so (static MLIR) and sattnc (libMLIR.so) wrote different "
         "PTX";
  EXPECT_TRUE(fromLibrary.manifestJson == manifestFromTool)
      << "different manifests";
}

TEST(Library, AutoArchMeansTheVariantsThenSm80) {
  std::string json = example("wan2.1-480p");
  ASSERT_TRUE(contains(json, "\"arch\": \"auto\"")) << "example changed";
  EXPECT_TRUE(contains(sattn::compile(json).ptx, ".target sm_80"));
  std::string hopper = json;
  hopper.replace(hopper.find("\"arch\": \"auto\""), 14, "\"arch\": \"sm_90a\"");
  EXPECT_TRUE(contains(sattn::compile(hopper).ptx, ".target sm_90a"));
  EXPECT_TRUE(contains(sattn::compile(hopper, "sm_80").ptx, ".target sm_80"));
}

/// The status of sattn_compile on `json`, with the outputs checked to stay
/// null and the message captured.
sattn_status compileStatus(const char *json, const char *arch,
                           std::string &message) {
  char *ptx = reinterpret_cast<char *>(0x1), *manifest = ptx;
  sattn_status status = sattn_compile(json, arch, &ptx, &manifest);
  message = sattn_last_error();
  EXPECT_EQ(ptx, nullptr);
  EXPECT_EQ(manifest, nullptr);
  return status;
}

TEST(Library, BadVariantsAndArgumentsAreStatuses) {
  std::string message;
  EXPECT_EQ(compileStatus("{\"name\": \"x\", \"problem\": {\"heads\": 0, "
                          "\"grid\": [1, 8, 8]}}",
                          "sm_80", message),
            SATTN_ERROR_INVALID_VARIANT);
  EXPECT_TRUE(contains(message, "problem.heads")) << message;
  EXPECT_EQ(compileStatus("{\"name\": ", "sm_80", message),
            SATTN_ERROR_INVALID_VARIANT);
  EXPECT_TRUE(contains(message, "sattn_compile: ")) << message;
  EXPECT_EQ(compileStatus(nullptr, "sm_80", message),
            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(message, "variant_json is null")) << message;
  EXPECT_EQ(compileStatus(example("wan2.1-480p").c_str(), "sm_70", message),
            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(message, "\"sm_70\"") && contains(message, "sm_90a"))
      << message;
  EXPECT_EQ(sattn_compile("{}", "sm_80", nullptr, nullptr),
            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(sattn_status_name(SATTN_ERROR_INVALID_VARIANT),
               "SATTN_ERROR_INVALID_VARIANT");

  sattn_kernels *kernels = reinterpret_cast<sattn_kernels *>(0x1);
  EXPECT_EQ(sattn_kernels_compile(nullptr, "{}", &kernels),
            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(kernels, nullptr);
  EXPECT_EQ(sattn_kernels_describe(nullptr, nullptr),
            SATTN_ERROR_INVALID_ARGUMENT);
  sattn_free(nullptr);
}

TEST(Library, CppApiThrowsWithStatusAndMessage) {
  try {
    sattn::compile("{\"name\": \"x\"}");
    FAIL() << "no exception";
  } catch (const sattn::Error &e) {
    EXPECT_EQ(e.status(), SATTN_ERROR_INVALID_VARIANT);
    EXPECT_TRUE(contains(e.what(), "SATTN_ERROR_INVALID_VARIANT: "))
        << e.what();
    EXPECT_TRUE(contains(e.what(), "problem")) << e.what();
  }
}

TEST(Library, WithoutAGpuTheContextIsAStatus) {
  sattn_context *context = nullptr;
  sattn_status status = sattn_context_create(0, &context);
  if (status == SATTN_OK) {
    sattn_context_destroy(context);
    GTEST_SKIP() << "a GPU is present";
  }
  EXPECT_TRUE(status == SATTN_ERROR_NO_DRIVER ||
              status == SATTN_ERROR_NO_DEVICE)
      << sattn_status_name(status);
  EXPECT_THROW(sattn::Context(0), sattn::Error);
}

TEST(Library, TwoThreadsCompileAtOnce) {
  std::string json = example("hunyuan-720p");
  std::string a, b;
  std::thread first([&] { a = sattn::compile(json, "sm_90a").ptx; });
  std::thread second([&] { b = sattn::compile(json, "sm_90a").ptx; });
  first.join();
  second.join();
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

} // namespace
