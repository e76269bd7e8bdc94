//===- Status.h - Outcomes of runtime calls ---------------------*- C++ -*-===//
//
// A C API status code with a one-line message. The C API publishes the
// message of a failed call as the calling thread's sattn_last_error().
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_STATUS_H
#define SATTN_RUNTIME_STATUS_H

#include "runtime/CudaApi.h"
#include "runtime/sattn.h"

#include <string>

namespace sattn {

class CudaDriver;

class [[nodiscard]] Status {
public:
  static Status ok() { return Status(SATTN_OK, ""); }
  static Status error(sattn_status code, std::string message) {
    return Status(code, std::move(message));
  }
  static Status invalid(std::string message) {
    return error(SATTN_ERROR_INVALID_ARGUMENT, std::move(message));
  }

  bool isOk() const { return code_ == SATTN_OK; }
  sattn_status code() const { return code_; }
  const std::string &message() const { return message_; }

private:
  Status(sattn_status code, std::string message)
      : code_(code), message_(std::move(message)) {}
  sattn_status code_;
  std::string message_;
};

/// The status of a driver call: ok, out of memory, or a CUDA error naming
/// the call and the driver's own description.
Status checkCuda(const CudaDriver &cuda, const char *call, cu::Result result);

/// Records `status` as the calling thread's last error (cleared on success)
/// and returns its code.
sattn_status publish(const Status &status);
const char *lastErrorMessage();

#define SATTN_RETURN_IF_ERROR(expr)                                            \
  do {                                                                         \
    ::sattn::Status status_ = (expr);                                          \
    if (!status_.isOk())                                                       \
      return status_;                                                          \
  } while (false)

} // namespace sattn

#endif // SATTN_RUNTIME_STATUS_H
