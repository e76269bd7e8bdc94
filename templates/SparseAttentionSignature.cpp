//===- SparseAttentionSignature.cpp - Parameters of attention kernels -----===//

#include "templates/SparseAttentionSignature.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace sattn {

std::vector<KernelParam> sparseAttentionParams(MLIRContext *ctx,
                                               const AttentionKernelParams &p) {
  std::vector<KernelParam> params;
  for (const char *tensor : {"q", "k", "v", "out"})
    params.push_back(KernelParam::buffer(ctx, tensor));
  for (const char *tensor : {"q", "k", "v", "out"})
    for (int64_t dim = 0; dim < 3; ++dim)
      params.push_back(KernelParam::stride(ctx, tensor, dim));
  params.push_back(KernelParam::buffer(ctx, "groups"));
  params.push_back(KernelParam::buffer(ctx, "counts"));
  if (p.bins > 0)
    for (const char *tail : {"tail_keys", "tail_values", "tail_log_counts"})
      params.push_back(KernelParam::buffer(ctx, tail));
  if (p.writeLse)
    params.push_back(KernelParam::buffer(ctx, "lse"));
  Type i32 = IntegerType::get(ctx, 32);
  params.push_back(KernelParam::scalar("seq_len", i32));
  params.push_back(KernelParam::scalar("capacity", i32));
  params.push_back(KernelParam::scalar("scale", Float32Type::get(ctx)));
  return params;
}

} // namespace sattn
