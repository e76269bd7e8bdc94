"""sattn: sparse attention for video diffusion transformers.

The runtime of a C++ library, through ctypes: torch tensors in, torch
tensors out, on the current torch CUDA stream.

    import sattn
    attention = sattn.SparseAttention("examples/wan2.1-480p.json")
    out = attention(q, k, v, step=step)   # the whole pipeline, one call
    attention.stats()                     # step kinds, density, recall

    kernels = sattn.Kernels.compile("examples/wan2.1-480p.json")  # JIT, cached
    out = kernels.sparse_attention(q, k, v, groups, counts)

    ptx, manifest = sattn.compile(variant_dict, arch="sm_90a")  # no GPU needed
"""

import ctypes
import json
import os

from sattn._capi import (SATTN_BF16, SATTN_FP16, STEP_KINDS, BlockMask,
                         KernelsInfo, PlanStats, SattnError, Tensor, check,
                         library)

__all__ = ["Kernels", "SattnError", "SparseAttention", "compile"]
SattnError.__module__ = "sattn"  # tracebacks say sattn.SattnError


def _variant_json(variant):
    """JSON text of a variant given as a dict, a JSON string or a path."""
    if isinstance(variant, dict):
        return json.dumps(variant)
    if isinstance(variant, os.PathLike) or (
            isinstance(variant, str) and not variant.lstrip().startswith("{")):
        with open(variant, encoding="utf-8") as f:
            return f.read()
    if isinstance(variant, str):
        return variant
    raise SattnError("SATTN_ERROR_INVALID_ARGUMENT",
                     f"a variant is a dict, JSON text or a path, not "
                     f"{type(variant).__name__}")


def compile(variant, arch="auto"):
    """Compiles a variant in process (no GPU needed): returns the PTX text
    and the manifest (a dict). `arch`: "sm_80", "sm_90a" or "auto" (the
    variant's target.arch; "auto" there means sm_80)."""
    lib = library()
    ptx, manifest = ctypes.c_void_p(), ctypes.c_void_p()
    check(lib.sattn_compile(_variant_json(variant).encode(), arch.encode(),
                            ctypes.byref(ptx), ctypes.byref(manifest)))
    try:
        return (ctypes.string_at(ptx).decode(),
                json.loads(ctypes.string_at(manifest).decode()))
    finally:
        lib.sattn_free(ptx)
        lib.sattn_free(manifest)


def _device_index(device):
    """The CUDA ordinal of `device` (None: torch's current device, or 0
    without torch)."""
    if isinstance(device, int):
        return device
    try:
        import torch
    except ImportError:
        if device is None:
            return 0
        raise SattnError("SATTN_ERROR_INVALID_ARGUMENT",
                         f"device {device!r} needs torch; pass an int")
    if device is None:
        return torch.cuda.current_device() if torch.cuda.is_available() else 0
    d = torch.device(device)
    if d.type != "cuda":
        raise SattnError("SATTN_ERROR_INVALID_ARGUMENT",
                         f"device {device!r} is not a CUDA device")
    return d.index if d.index is not None else torch.cuda.current_device()


def _info_dict(info):
    return {
        "arch": info.arch.decode(),
        "from_cache": bool(info.from_cache),
        "prepare_ms": info.prepare_ms,
        "registers": info.registers,
        "local_bytes": info.local_bytes,
        "shared_bytes": info.shared_bytes,
        "cache_note": info.cache_note.decode(),
        "tuning": info.tuning.decode(),
        "load_ms": info.load_ms,
        "cubin": info.cubin.decode(),
        "setup_ms": info.setup_ms,
    }


def _tensor(name, t):
    import torch
    if not isinstance(t, torch.Tensor):
        raise SattnError("SATTN_ERROR_INVALID_ARGUMENT",
                         f"{name} is not a torch.Tensor")
    if not t.is_cuda:
        raise SattnError("SATTN_ERROR_INVALID_ARGUMENT",
                         f"{name} is on {t.device}, not a CUDA device")
    if t.dim() != 4:
        raise SattnError("SATTN_ERROR_INVALID_ARGUMENT",
                         f"{name} has {t.dim()} dimensions, expected 4 "
                         "[batch, heads, tokens, head_dim]")
    dtypes = {torch.bfloat16: SATTN_BF16, torch.float16: SATTN_FP16}
    if t.dtype not in dtypes:
        raise SattnError("SATTN_ERROR_INVALID_ARGUMENT",
                         f"{name} is {t.dtype}; sattn takes bfloat16 or "
                         "float16")
    c = Tensor()
    c.data = t.data_ptr()
    for i in range(4):
        c.shape[i] = t.shape[i]
        c.strides[i] = t.stride(i)
    c.dtype = dtypes[t.dtype]
    return c


def _pointer(name, t, dtype):
    import torch
    if t is None:
        return None
    if not isinstance(t, torch.Tensor) or not t.is_cuda or t.dtype != dtype:
        raise SattnError("SATTN_ERROR_INVALID_ARGUMENT",
                         f"{name} must be a CUDA tensor of {dtype}")
    if not t.is_contiguous():
        raise SattnError("SATTN_ERROR_INVALID_ARGUMENT",
                         f"{name} must be contiguous")
    return t.data_ptr()


class Kernels:
    """A variant's kernels on a GPU: the ones sattnc wrote
    (`Kernels(manifest_path)`), or compiled in process and cached
    (`Kernels.compile(variant)`)."""

    def __init__(self, manifest_path=None, device=None, _variant=None):
        import torch
        lib = library()
        if device is None:
            device = torch.cuda.current_device()
        self.device = device
        self._lib = lib
        self._context = ctypes.c_void_p()
        self._kernels = ctypes.c_void_p()
        check(lib.sattn_context_create(int(device),
                                       ctypes.byref(self._context)))
        try:
            if _variant is not None:
                check(lib.sattn_kernels_compile(
                    self._context, _variant_json(_variant).encode(),
                    ctypes.byref(self._kernels)))
            else:
                check(lib.sattn_kernels_load(self._context,
                                             str(manifest_path).encode(),
                                             ctypes.byref(self._kernels)))
        except BaseException:
            self.close()
            raise

    @classmethod
    def compile(cls, variant, device=None):
        """The kernels of `variant` (a dict, JSON text or a path) for the
        GPU: from the kernel cache ($SATTN_CACHE_DIR, default
        ~/.cache/sattn), or compiled in process and stored there."""
        return cls(device=device, _variant=variant)

    def describe(self):
        """How the kernels came to be: arch, from_cache, prepare_ms,
        registers, local_bytes, shared_bytes, cache_note, tuning, load_ms,
        cubin ("cached", "built" or "none"), setup_ms (plans: workspace
        and constant tables)."""
        info = KernelsInfo()
        check(self._lib.sattn_kernels_describe(self._kernels,
                                               ctypes.byref(info)))
        return _info_dict(info)

    def close(self):
        if self._kernels:
            self._lib.sattn_kernels_destroy(self._kernels)
            self._kernels = ctypes.c_void_p()
        if self._context:
            self._lib.sattn_context_destroy(self._context)
            self._context = ctypes.c_void_p()

    def __del__(self):
        self.close()

    def sparse_attention(self, q, k, v, groups, counts, tail_keys=None,
                         tail_values=None, tail_log_counts=None, out=None,
                         lse=None):
        """Block-sparse attention of q over k, v with index lists `groups`
        ([B, H, NQ, capacity] int32) and `counts` ([B, H, NQ] int32), on the
        current torch stream. Returns `out` (a new tensor like q if None)."""
        import torch
        if out is None:
            out = torch.empty_like(q)
        tq, tk, tv, to = (_tensor(n, t) for n, t in
                          (("q", q), ("k", k), ("v", v), ("out", out)))
        mask = BlockMask()
        mask.groups = _pointer("groups", groups, torch.int32)
        mask.counts = _pointer("counts", counts, torch.int32)
        mask.capacity = groups.shape[-1]
        mask.tail_keys = _pointer("tail_keys", tail_keys, torch.float32)
        mask.tail_values = _pointer("tail_values", tail_values, torch.float32)
        mask.tail_log_counts = _pointer("tail_log_counts", tail_log_counts,
                                        torch.float32)
        stream = torch.cuda.current_stream(q.device).cuda_stream
        check(self._lib.sattn_sparse_attention(
            self._kernels, ctypes.byref(tq), ctypes.byref(tk),
            ctypes.byref(tv), ctypes.byref(to), ctypes.byref(mask),
            _pointer("lse", lse, torch.float32), stream))
        return out


class SparseAttention:
    """A variant's whole pipeline (reorder, pooling, scoring, selection, tail
    bins, attention, unreorder) on the GPU, as a drop-in for
    `F.scaled_dot_product_attention(q, k, v)` in a DiT block:

        attention = sattn.SparseAttention("examples/wan2.1-480p.json")
        out = attention(q, k, v, step=i)

    `variant` is a dict, JSON text or a path; its problem section fixes the
    shapes (q, k, v: [batch, heads, tokens, head_dim], any strides with
    head_dim contiguous, so [B, S, H, D] tensors viewed as [B, H, S, D] work
    without a copy). `step` is the denoising step (one forward pass each):
    it decides between dense warm-up, a mask refresh and reusing the last
    mask. Kernels come from the kernel cache or are compiled in process;
    the workspace is allocated here, once. Each call runs on the current
    torch CUDA stream and does not wait for it."""

    def __init__(self, variant, device=None, profile=False):
        lib = library()
        self._lib = lib
        self._context = ctypes.c_void_p()
        self._plan = ctypes.c_void_p()
        text = _variant_json(variant)
        # Without a context sattn_plan_create checks only the variant: a bad
        # one is refused the same way with or without torch and a GPU.
        status = lib.sattn_plan_create(None, text.encode(),
                                       ctypes.byref(self._plan))
        if lib.sattn_status_name(status) != b"SATTN_ERROR_INVALID_ARGUMENT":
            check(status)
        self.variant = json.loads(text)
        self.device = _device_index(device)
        check(lib.sattn_context_create(self.device,
                                       ctypes.byref(self._context)))
        try:
            check(lib.sattn_plan_create(self._context, text.encode(),
                                        ctypes.byref(self._plan)))
            if profile:
                self.set_profiling(True)
        except BaseException:
            self.close()
            raise

    def __call__(self, q, k, v, step=0, out=None):
        """The attention of q over k, v at denoising step `step`; returns
        `out` (a new tensor like q when None)."""
        import torch
        if isinstance(step, bool) or not isinstance(step, int):
            raise SattnError("SATTN_ERROR_INVALID_ARGUMENT",
                             f"step must be an int, not "
                             f"{type(step).__name__}")
        if out is None:
            out = torch.empty_like(q)
        tq, tk, tv, to = (_tensor(n, t) for n, t in
                          (("q", q), ("k", k), ("v", v), ("out", out)))
        stream = torch.cuda.current_stream(q.device).cuda_stream
        check(self._lib.sattn_run(self._plan, ctypes.byref(tq),
                                  ctypes.byref(tk), ctypes.byref(tv),
                                  ctypes.byref(to), step, stream))
        return out

    def stats(self):
        """What the plan has done (waits for its last step): steps_run,
        last_step, last_kind ("dense", "refresh", "reuse" or None),
        last_refresh_step (None before any), head_density and head_recall
        ([batch][heads] lists of the mask in use; None before a refresh),
        stage_ms (a list of [stage, milliseconds] of the last step, None
        unless profiling)."""
        s = PlanStats()
        check(self._lib.sattn_plan_stats(self._plan, ctypes.byref(s)))
        B, H = s.batch, s.heads

        def per_head(array):
            if not array:
                return None
            return [[array[b * H + h] for h in range(H)] for b in range(B)]

        return {
            "steps_run": s.steps_run,
            "last_step": s.last_step if s.last_step >= 0 else None,
            "last_kind": STEP_KINDS.get(s.last_kind),
            "last_refresh_step": (s.last_refresh_step
                                  if s.last_refresh_step >= 0 else None),
            "head_density": per_head(s.head_density),
            "head_recall": per_head(s.head_recall),
            "stage_ms": ([[s.stage_names[i].decode(), s.stage_ms[i]]
                          for i in range(s.stages)]
                         if s.stage_ms else None),
        }

    def set_profiling(self, on=True):
        """Per-stage CUDA-event timings of each step in stats()."""
        check(self._lib.sattn_plan_set_profiling(self._plan, int(bool(on))))

    def describe(self):
        """How the kernels came to be (as Kernels.describe)."""
        info = KernelsInfo()
        check(self._lib.sattn_plan_describe(self._plan, ctypes.byref(info)))
        return _info_dict(info)

    def buffer(self, name, dtype, shape):
        """A torch tensor over one of the plan's own buffers, by its manifest
        name (e.g. the last select stage's "select_8.groups"), to inspect
        what the stages computed; call stats() first so the last step has
        finished. The memory stays the plan's: the next call may change it.
        `dtype` and `shape` are the manifest's (torch.int32 / torch.float32
        and the buffer's shape)."""
        import torch
        address = ctypes.c_void_p()
        size = ctypes.c_int64()
        check(self._lib.sattn_plan_buffer(self._plan, name.encode(),
                                          ctypes.byref(address),
                                          ctypes.byref(size)))
        typestr = {torch.int32: "<i4", torch.float32: "<f4"}.get(dtype)
        count = 1
        for d in shape:
            count *= int(d)
        if typestr is None or count * 4 != size.value:
            raise SattnError("SATTN_ERROR_INVALID_ARGUMENT",
                             f"buffer {name} holds {size.value} bytes, not "
                             f"{count} elements of {dtype}")

        class _Device:
            __cuda_array_interface__ = {
                "shape": tuple(int(d) for d in shape), "typestr": typestr,
                "data": (address.value, False), "version": 3}
        return torch.as_tensor(_Device(), device=f"cuda:{self.device}")

    def close(self):
        if self._plan:
            self._lib.sattn_plan_destroy(self._plan)
            self._plan = ctypes.c_void_p()
        if self._context:
            self._lib.sattn_context_destroy(self._context)
            self._context = ctypes.c_void_p()

    def __del__(self):
        self.close()
