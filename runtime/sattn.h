/*===- sattn.h - The sattn runtime, C API ---------------------------------===*
 *
 * Every call returns a status; on failure sattn_last_error() says what went
 * wrong, in one line, for the calling thread. Nothing aborts the process.
 * Objects are thread-safe to use from several threads when each thread uses
 * its own objects; one object shared between threads needs the caller's
 * locking.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SATTN_RUNTIME_SATTN_H
#define SATTN_RUNTIME_SATTN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SATTN_API __attribute__((visibility("default")))
#else
#define SATTN_API
#endif

typedef enum sattn_status {
  SATTN_OK = 0,
  SATTN_ERROR_INVALID_ARGUMENT = 1, /* a null, misaligned or mismatched input */
  SATTN_ERROR_NO_DRIVER = 2,        /* libcuda.so.1 missing or unusable */
  SATTN_ERROR_NO_DEVICE = 3,        /* no such GPU, or too old */
  SATTN_ERROR_CUDA = 4,             /* a CUDA driver call failed */
  SATTN_ERROR_OUT_OF_MEMORY = 5,
  SATTN_ERROR_IO = 6,              /* a file could not be read or written */
  SATTN_ERROR_INVALID_KERNELS = 7, /* a PTX or manifest that does not load */
  SATTN_ERROR_INTERNAL = 8
} sattn_status;

typedef enum sattn_dtype { SATTN_BF16 = 0, SATTN_FP16 = 1 } sattn_dtype;

/* A [B, H, S, D] tensor in device memory; strides in elements. The head
 * dimension must be contiguous (strides[3] == 1), the other strides
 * multiples of 8 elements, and `data` 16-byte aligned, so that [B, H, S, D]
 * and [B, S, H, D] layouts both work without a copy. */
typedef struct sattn_tensor {
  void *data;
  int64_t shape[4];
  int64_t strides[4];
  sattn_dtype dtype;
} sattn_tensor;

/* A block-sparse mask in device memory: for each (batch, head, query block)
 * up to `capacity` kept key-group indices (int32, [B, H, NQ, capacity]) and
 * their count (int32, [B, H, NQ]). Indices outside [0, G) and entries past
 * the count are ignored; counts are clamped to [0, capacity]. With tail bins
 * (the kernels' variant has tail.bins = n > 0): the bins' mean keys and
 * values (float, [B, H, NQ, n, D]) and log token counts (float,
 * [B, H, NQ, n]; -inf for an empty bin); NULL otherwise. */
typedef struct sattn_block_mask {
  const int32_t *groups;
  const int32_t *counts;
  int64_t capacity;
  const float *tail_keys;
  const float *tail_values;
  const float *tail_log_counts;
} sattn_block_mask;

typedef struct sattn_context sattn_context;
typedef struct sattn_kernels sattn_kernels;

/* The status name ("SATTN_ERROR_NO_DEVICE") and the calling thread's last
 * error message ("" after a success). */
SATTN_API const char *sattn_status_name(sattn_status status);
SATTN_API const char *sattn_last_error(void);

/* A context on GPU `device` (the device's primary CUDA context). */
SATTN_API sattn_status sattn_context_create(int device, sattn_context **out);
SATTN_API void sattn_context_destroy(sattn_context *context);

/* Loads the kernels sattnc wrote for a variant: NAME.manifest.json and the
 * PTX it names, next to it. */
SATTN_API sattn_status sattn_kernels_load(sattn_context *context,
                                          const char *manifest_path,
                                          sattn_kernels **out);
SATTN_API void sattn_kernels_destroy(sattn_kernels *kernels);

/* out = block-sparse attention of q over k, v under `mask`, on `stream`
 * (a CUstream; NULL for the legacy default stream), without waiting for it.
 * `lse` ([B, H, S] float, device) receives each row's log-sum-exp when the
 * kernels write it (variants with the linear path), and must be NULL
 * otherwise. */
SATTN_API sattn_status sattn_sparse_attention(
    sattn_kernels *kernels, const sattn_tensor *q, const sattn_tensor *k,
    const sattn_tensor *v, const sattn_tensor *out,
    const sattn_block_mask *mask, float *lse, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* SATTN_RUNTIME_SATTN_H */
