//===- DeviceBuffer.cpp - Owned device memory -----------------------------===//

#include "runtime/DeviceBuffer.h"

namespace sattn {

Status DeviceBuffer::allocate(const Context &context, size_t bytes,
                              DeviceBuffer &out) {
  SATTN_RETURN_IF_ERROR(context.makeCurrent());
  DeviceBuffer buffer;
  buffer.context_ = &context;
  buffer.bytes_ = bytes;
  SATTN_RETURN_IF_ERROR(
      checkCuda(context.cuda(), "cuMemAlloc",
                context.cuda().memAlloc(&buffer.pointer_, bytes ? bytes : 1)));
  out = std::move(buffer);
  return Status::ok();
}

DeviceBuffer::~DeviceBuffer() {
  if (pointer_)
    context_->cuda().memFree(pointer_);
}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept {
  if (this != &other) {
    if (pointer_)
      context_->cuda().memFree(pointer_);
    context_ = other.context_;
    pointer_ = other.pointer_;
    bytes_ = other.bytes_;
    other.pointer_ = 0;
    other.bytes_ = 0;
  }
  return *this;
}

Status DeviceBuffer::upload(const void *host, size_t bytes) const {
  if (bytes > bytes_)
    return Status::invalid("upload of " + std::to_string(bytes) +
                           " bytes into a buffer of " + std::to_string(bytes_));
  return checkCuda(context_->cuda(), "cuMemcpyHtoD",
                   context_->cuda().memcpyHtoD(pointer_, host, bytes));
}

Status DeviceBuffer::download(void *host, size_t bytes) const {
  if (bytes > bytes_)
    return Status::invalid("download of " + std::to_string(bytes) +
                           " bytes from a buffer of " + std::to_string(bytes_));
  return checkCuda(context_->cuda(), "cuMemcpyDtoH",
                   context_->cuda().memcpyDtoH(host, pointer_, bytes));
}

Status DeviceBuffer::fill(unsigned char value) const {
  return checkCuda(context_->cuda(), "cuMemsetD8",
                   context_->cuda().memsetD8(pointer_, value, bytes_));
}

} // namespace sattn
