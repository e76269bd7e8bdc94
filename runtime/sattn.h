/*===- sattn.h - The sattn runtime, C API ---------------------------------===*
 *
 * Every call returns a status; on failure sattn_last_error() says what went
 * wrong, in one line, for the calling thread. Nothing aborts the process.
 * Objects are thread-safe to use from several threads when each thread uses
 * its own objects; one object shared between threads needs the caller's
 * locking, except a sattn_plan, which serializes the calls made on it (see
 * sattn_plan_create).
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
  /* Kernels compiled with the fused reorder (the default of a variant with
   * a reorder; sattnc --fuse-reorder=false makes the other kind) take q, k,
   * v and out in frame-major order and read them through this table (int32,
   * [S]): position i of the reordered sequence, which the index lists and
   * bins refer to, is row token_order[i] of the tensors. NULL for kernels
   * without it; entries are clamped into [0, S). */
  const int32_t *token_order;
} sattn_block_mask;

typedef struct sattn_context sattn_context;
typedef struct sattn_kernels sattn_kernels;
typedef struct sattn_plan sattn_plan;

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
 * whose PTX runs on every supported GPU. Needs no GPU and no cache.
 *
 * The pipeline's pool and attention kernels read q, k and v (and the
 * attention kernel writes out) through the variant's token order, with no
 * reorder or unreorder kernels; SATTN_FUSE_REORDER=0 in the environment
 * compiles the separate reorder/unreorder form instead (here and in
 * sattn_kernels_compile and sattn_plan_create), for comparing the two.
 * The attention kernel of the fused form cannot run alone through
 * sattn_sparse_attention, which takes reordered tensors. */
SATTN_API sattn_status sattn_compile(const char *variant_json, const char *arch,
                                     char **ptx, char **manifest_json);
SATTN_API void sattn_free(void *memory);

/* The kernels of a variant (JSON text) for the context's GPU: loaded from the
 * kernel cache, or compiled in process and stored there. The cache folder is
 * $SATTN_CACHE_DIR, else $XDG_CACHE_HOME/sattn, else ~/.cache/sattn; entries
 * are keyed by the variant, the tile parameters, the exact arch, the driver
 * and the compiler version. A corrupt entry is reported once on stderr and
 * rebuilt; a cache that cannot be written costs the entry, not the kernels.
 * Beside the entries, the cubin cache keeps the driver's machine code of
 * each PTX for this GPU (compute capability) and driver, so that a later
 * load skips the driver's JIT (sattn_kernels_load uses it too).
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
  /* Of prepare_ms, the module load: the driver turning the PTX into machine
   * code for this GPU (its own JIT cache makes repeats cheaper), or loading
   * that machine code from the cubin cache. */
  double load_ms;
  /* Where the machine code came from: "cached" (the cubin cache: the PTX's
   * cubin for this GPU and driver, stored by an earlier load), "built" (the
   * driver's linker JIT-compiled the PTX; the cubin was stored for next
   * time) or "none" (the PTX was loaded directly; cache_note says why). */
  const char *cubin;
  /* Plans only (sattn_plan_describe; 0 for sattn_kernels): after
   * prepare_ms, setting up the plan: the workspace allocated and zeroed and
   * the constant tables (token order) computed and copied. */
  double setup_ms;
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

/*===- Plans: the whole pipeline behind one call ---------------------------===*/

/* A plan runs a whole variant (SPEC section 4: reorder, pool, score, select,
 * tail bins, attention, unreorder) on the GPU, step by step.
 *
 * sattn_plan_create parses and validates the variant (a failure is
 * SATTN_ERROR_INVALID_VARIANT with the field), gets its kernels exactly as
 * sattn_kernels_compile does (tuning database, kernel cache, in-process
 * compile), and allocates and zero-fills every workspace buffer of the
 * manifest, and fills its constant tables, in one device allocation. After
 * that, sattn_run neither allocates nor waits for the GPU. A variant that the
 * GPU path cannot run yet is SATTN_ERROR_INVALID_VARIANT naming the reason
 * ("stage sattn.pool has no GPU kernel yet", or linear.enabled: the linear
 * path has no GPU kernels yet). The shapes are the variant's: q, k, v and
 * out of every sattn_run are [batch, heads, S, head_dim] of problem.dtype.
 * The variant is checked before the context: with a NULL context the call
 * validates the variant alone (SATTN_ERROR_INVALID_ARGUMENT "context is
 * null" when it would be planned), which needs no GPU.
 *
 * Thread-safety: distinct plans are independent and may run from distinct
 * threads at once. Calls on one plan from several threads are serialized by
 * the plan's own lock (they do not interleave); sattn_plan_destroy must not
 * race with other calls on the same plan. The context must outlive its
 * plans. */
SATTN_API sattn_status sattn_plan_create(sattn_context *context,
                                         const char *variant_json,
                                         sattn_plan **out);
SATTN_API void sattn_plan_destroy(sattn_plan *plan);

/* out = the variant's attention of q over k, v at denoising step `step`
 * (0-based; one forward pass each, so classifier-free guidance counts two),
 * enqueued on `stream` (a CUstream; NULL: the legacy default stream) without
 * waiting for it. Which kernels run follows the variant's schedule: a dense
 * warm-up step runs dense attention; a refresh step recomputes the mask; a
 * step between refreshes reuses the mask of the plan's last refresh (and
 * runs as a refresh when this plan has not computed one yet). q, k, v and out
 * are checked like sattn_sparse_attention's: shape, dtype, head_dim
 * contiguous, other strides multiples of 8 elements, 16-byte aligned device
 * memory of the context's GPU with enough bytes behind it. A negative step is
 * SATTN_ERROR_INVALID_ARGUMENT. */
SATTN_API sattn_status sattn_run(sattn_plan *plan, const sattn_tensor *q,
                                 const sattn_tensor *k, const sattn_tensor *v,
                                 const sattn_tensor *out, int64_t step,
                                 void *stream);

typedef enum sattn_step_kind {
  SATTN_STEP_NONE = 0,    /* no step has run */
  SATTN_STEP_DENSE = 1,   /* dense warm-up: no mask */
  SATTN_STEP_REFRESH = 2, /* the mask was recomputed */
  SATTN_STEP_REUSE = 3    /* the mask of the last refresh was reused */
} sattn_step_kind;

/* What a plan has done. The arrays are owned by the plan and stay valid
 * until the next sattn_plan_stats on it or sattn_plan_destroy; copy what you
 * keep. */
typedef struct sattn_plan_statistics {
  int64_t steps_run;             /* successful sattn_run calls */
  int64_t last_step;             /* the step of the last one; -1: none */
  sattn_step_kind last_kind;     /* how it ran */
  int64_t last_refresh_step;     /* the step whose mask is in use; -1: none */
  int64_t batch, heads;          /* head_density, head_recall: batch*heads
                                    entries, index b*heads + h */
  /* Per (batch, head), of the mask in use (the last refresh's; NULL before
   * any): the kept share of key groups (mean over query blocks of kept / G,
   * from the last selection level) and the estimated recall (mean over
   * query blocks of the selected score mass; NULL when the kernels do not
   * produce it). */
  const float *head_density;
  const float *head_recall;
  /* Per stage of the manifest, in order (stage_names: "sattn.pool", ...):
   * milliseconds of the last step's kernels of that stage, measured with
   * CUDA events; -1 for a stage that launched nothing at that step. NULL
   * unless profiling was on for the last step. */
  int64_t stages;
  const char *const *stage_names;
  const float *stage_ms;
} sattn_plan_statistics;

/* Waits for the plan's last sattn_run to finish on the GPU (this is the one
 * plan call that synchronizes), then fills `out`. */
SATTN_API sattn_status sattn_plan_stats(sattn_plan *plan,
                                        sattn_plan_statistics *out);

/* How the plan's kernels came to be, as sattn_kernels_describe says it
 * (from the cache or compiled, a cache note such as an entry that could not
 * be stored, the tuning); the strings live as long as the plan. */
SATTN_API sattn_status sattn_plan_describe(const sattn_plan *plan,
                                           sattn_kernels_info *out);

/* Profiling on (nonzero) or off: with it on, every sattn_run records a CUDA
 * event before and after each stage's kernels (created here, once; still no
 * synchronization in sattn_run), and sattn_plan_stats reports stage_ms. */
SATTN_API sattn_status sattn_plan_set_profiling(sattn_plan *plan, int on);

/* The device address and size of one of the plan's own buffers (workspace
 * or constant), by its manifest name ("select_8.groups", "token_order"; the
 * manifest of sattn_compile lists them): for inspecting what the stages
 * computed, e.g. the index lists of the mask in use, after
 * sattn_plan_stats has waited for the last step. The memory belongs to the
 * plan; the next sattn_run may overwrite it. An unknown name (or one of q,
 * k, v, out, which are the caller's) is SATTN_ERROR_INVALID_ARGUMENT. */
SATTN_API sattn_status sattn_plan_buffer(sattn_plan *plan, const char *name,
                                         void **device_pointer,
                                         int64_t *bytes);

#ifdef __cplusplus
}
#endif

#endif /* SATTN_RUNTIME_SATTN_H */
