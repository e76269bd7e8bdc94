//===- Parallel.cpp - Work spread over threads in the reference -----------===//

#include "compiler/reference/Parallel.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

namespace sattn::ref {

int referenceThreads() {
  if (const char *env = std::getenv("SATTN_REF_THREADS")) {
    int n = std::atoi(env);
    if (n > 0)
      return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

void parallelFor(int64_t count, const std::function<void(int64_t)> &body) {
  int64_t threads = std::min<int64_t>(referenceThreads(), count);
  if (threads <= 1) {
    for (int64_t i = 0; i < count; ++i)
      body(i);
    return;
  }
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t i = next++; i < count; i = next++)
      body(i);
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();
}

} // namespace sattn::ref
