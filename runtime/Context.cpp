//===- Context.cpp - A GPU and its primary CUDA context -------------------===//

#include "runtime/Context.h"

namespace sattn {

Status Context::create(int ordinal, std::unique_ptr<Context> &out) {
  std::string why;
  const CudaDriver *cuda = CudaDriver::get(&why);
  if (!cuda)
    return Status::error(SATTN_ERROR_NO_DRIVER, why);
  std::optional<DeviceInfo> info = queryDevice(ordinal, &why);
  if (!info)
    return Status::error(SATTN_ERROR_NO_DEVICE, why);
  std::string arch = archForDevice(*info, &why);
  if (arch.empty())
    return Status::error(SATTN_ERROR_NO_DEVICE, why);
  std::unique_ptr<Context> context(new Context());
  context->cuda_ = cuda;
  context->info_ = *info;
  context->arch_ = arch;
  SATTN_RETURN_IF_ERROR(checkCuda(*cuda, "cuDeviceGet",
                                  cuda->deviceGet(&context->device_, ordinal)));
  SATTN_RETURN_IF_ERROR(checkCuda(
      *cuda, "cuDevicePrimaryCtxRetain",
      cuda->devicePrimaryCtxRetain(&context->context_, context->device_)));
  SATTN_RETURN_IF_ERROR(context->makeCurrent());
  out = std::move(context);
  return Status::ok();
}

Context::~Context() {
  if (context_)
    cuda_->devicePrimaryCtxRelease(device_);
}

Status Context::makeCurrent() const {
  cu::Context current = nullptr;
  if (cuda_->ctxGetCurrent(&current) == cu::kSuccess && current == context_)
    return Status::ok();
  return checkCuda(*cuda_, "cuCtxSetCurrent", cuda_->ctxSetCurrent(context_));
}

} // namespace sattn
