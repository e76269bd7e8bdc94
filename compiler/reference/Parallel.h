//===- Parallel.h - Work spread over threads in the reference ---*- C++ -*-===//
//
// The accuracy sweeps run the reference on S = 8192 and more, so its outer
// loops (over batch × head × query chunks) run on all cores. Each index is
// handled by exactly one thread and every result is written to its own
// place, so the outputs do not depend on the number of threads.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_COMPILER_REFERENCE_PARALLEL_H
#define SATTN_COMPILER_REFERENCE_PARALLEL_H

#include <cstdint>
#include <functional>

namespace sattn::ref {

/// The number of worker threads: $SATTN_REF_THREADS when set to a positive
/// integer, else the hardware concurrency.
int referenceThreads();

/// Calls body(i) for every i in [0, count), spread over referenceThreads()
/// threads (dynamically, one index at a time, so uneven work balances).
void parallelFor(int64_t count, const std::function<void(int64_t)> &body);

} // namespace sattn::ref

#endif // SATTN_COMPILER_REFERENCE_PARALLEL_H
