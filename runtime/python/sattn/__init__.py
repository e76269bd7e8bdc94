"""sattn: sparse attention for video diffusion transformers.

The runtime of a C++ library, through ctypes: torch tensors in, torch
tensors out, on the current torch CUDA stream.

    import sattn
    kernels = sattn.Kernels.compile("examples/wan2.1-480p.json")  # JIT, cached
    out = kernels.sparse_attention(q, k, v, groups, counts)

    ptx, manifest = sattn.compile(variant_dict, arch="sm_90a")  # no GPU needed
"""

import ctypes
import json
import os

from sattn._capi import (SATTN_BF16, SATTN_FP16, BlockMask, KernelsInfo,
                         SattnError, Tensor, check, library)

__all__ = ["Kernels", "SattnError", "compile"]
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
        registers, local_bytes, shared_bytes, cache_note, tuning."""
        info = KernelsInfo()
        check(self._lib.sattn_kernels_describe(self._kernels,
                                               ctypes.byref(info)))
        return {
            "arch": info.arch.decode(),
            "from_cache": bool(info.from_cache),
            "prepare_ms": info.prepare_ms,
            "registers": info.registers,
            "local_bytes": info.local_bytes,
            "shared_bytes": info.shared_bytes,
            "cache_note": info.cache_note.decode(),
            "tuning": info.tuning.decode(),
        }

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
