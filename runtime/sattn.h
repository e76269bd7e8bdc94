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
  SATTN_ERROR_INTERNAL = 8,
  SATTN_ERROR_INVALID_VARIANT = 9 /* a variant that does not parse, validate
                                     or compile */
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

/* Compiles a variant (JSON text, SPEC section 3) in process, the way sattnc
 * does, and returns the PTX text and the manifest (JSON text) in new strings
 * the caller frees with sattn_free. `arch` is "sm_80" or "sm_90a"; NULL or
 * "auto" takes the variant's target.arch, and "auto" there means sm_80,
 * whose PTX runs on every supported GPU. Needs no GPU and no cache. */
SATTN_API sattn_status sattn_compile(const char *variant_json, const char *arch,
                                     char **ptx, char **manifest_json);
SATTN_API void sattn_free(void *memory);

/* The kernels of a variant (JSON text) for the context's GPU: loaded from the
 * kernel cache, or compiled in process and stored there. The cache folder is
 * $SATTN_CACHE_DIR, else $XDG_CACHE_HOME/sattn, else ~/.cache/sattn; entries
 * are keyed by the variant, the tile parameters, the exact arch, the driver
 * and the compiler version. A corrupt entry is reported once on stderr and
 * rebuilt; a cache that cannot be written costs the entry, not the kernels.
 * The arch is the variant's target.arch ("auto": the GPU's own); a variant
 * for sm_90a on a GPU that is not sm_90 is SATTN_ERROR_INVALID_VARIANT.
 * The tile parameters are the tuning database's best for this GPU, driver
 * and compiler ($SATTN_TUNING_DB, else tuning.json in the cache folder;
 * written by sattn-tune), or the documented defaults when it has none;
 * sattn_kernels_describe says which. */
SATTN_API sattn_status sattn_kernels_compile(sattn_context *context,
                                             const char *variant_json,
                                             sattn_kernels **out);

/* How a sattn_kernels came to be. `cache_note` is "" or one line about the
 * cache (an entry rebuilt or not stored); it lives as long as the kernels. */
typedef struct sattn_kernels_info {
  const char *arch;  /* "sm_80" or "sm_90a" */
  int from_cache;    /* 1: loaded from the kernel cache */
  double prepare_ms; /* compile or cache load, then module load */
  int registers;     /* of the sparse attention kernel, per thread */
  int local_bytes;   /* its local memory (spills), per thread */
  int shared_bytes;  /* its dynamic shared memory, per block */
  const char *cache_note;
  /* "tuned (DB: parameters, time vs the defaults' time)" or "defaults (why)";
   * lives as long as the kernels. */
  const char *tuning;
} sattn_kernels_info;

SATTN_API sattn_status sattn_kernels_describe(const sattn_kernels *kernels,
                                              sattn_kernels_info *out);

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
