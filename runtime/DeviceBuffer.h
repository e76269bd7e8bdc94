//===- DeviceBuffer.h - Owned device memory ---------------------*- C++ -*-===//

#ifndef SATTN_RUNTIME_DEVICEBUFFER_H
#define SATTN_RUNTIME_DEVICEBUFFER_H

#include "runtime/Context.h"

#include <vector>

namespace sattn {

/// cuMemAlloc'd bytes, freed on destruction.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  static Status allocate(const Context &context, size_t bytes,
                         DeviceBuffer &out);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer &&other) noexcept { *this = std::move(other); }
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;

  void *data() const { return reinterpret_cast<void *>(uintptr_t(pointer_)); }
  size_t bytes() const { return bytes_; }

  Status upload(const void *host, size_t bytes) const;
  Status download(void *host, size_t bytes) const;
  template <typename T> Status upload(const std::vector<T> &host) const {
    return upload(host.data(), host.size() * sizeof(T));
  }
  template <typename T> Status download(std::vector<T> &host) const {
    return download(host.data(), host.size() * sizeof(T));
  }
  /// Every byte set to `value` (0xff poisons bf16/fp16/f32 data as NaN).
  Status fill(unsigned char value) const;

private:
  const Context *context_ = nullptr;
  cu::DevicePtr pointer_ = 0;
  size_t bytes_ = 0;
};

} // namespace sattn

#endif // SATTN_RUNTIME_DEVICEBUFFER_H
