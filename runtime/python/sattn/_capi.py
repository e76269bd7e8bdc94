"""ctypes declarations of libsattn.so (runtime/sattn.h).

No compiled extension: this works with any Python 3 and any torch build.
The library is found through $SATTN_LIBRARY, next to this package
(sattn/libsattn.so), in an installed runtime (PREFIX/python/sattn ->
PREFIX/lib/libsattn.so), or in a build tree (build/lib/libsattn.so).
"""

import ctypes
import os
import pathlib

SATTN_OK = 0
SATTN_BF16 = 0
SATTN_FP16 = 1


class SattnError(RuntimeError):
    """A sattn call failed; the message is sattn_last_error()'s."""

    def __init__(self, status_name, message):
        super().__init__(f"{status_name}: {message}")
        self.status = status_name


class Tensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("shape", ctypes.c_int64 * 4),
        ("strides", ctypes.c_int64 * 4),
        ("dtype", ctypes.c_int),
    ]


class KernelsInfo(ctypes.Structure):
    _fields_ = [
        ("arch", ctypes.c_char_p),
        ("from_cache", ctypes.c_int),
        ("prepare_ms", ctypes.c_double),
        ("registers", ctypes.c_int),
        ("local_bytes", ctypes.c_int),
        ("shared_bytes", ctypes.c_int),
        ("cache_note", ctypes.c_char_p),
        ("tuning", ctypes.c_char_p),
        ("load_ms", ctypes.c_double),
        ("cubin", ctypes.c_char_p),
        ("setup_ms", ctypes.c_double),
    ]


class BlockMask(ctypes.Structure):
    _fields_ = [
        ("groups", ctypes.c_void_p),
        ("counts", ctypes.c_void_p),
        ("capacity", ctypes.c_int64),
        ("tail_keys", ctypes.c_void_p),
        ("tail_values", ctypes.c_void_p),
        ("tail_log_counts", ctypes.c_void_p),
        ("token_order", ctypes.c_void_p),
    ]


class PlanStats(ctypes.Structure):
    _fields_ = [
        ("steps_run", ctypes.c_int64),
        ("last_step", ctypes.c_int64),
        ("last_kind", ctypes.c_int),
        ("last_refresh_step", ctypes.c_int64),
        ("batch", ctypes.c_int64),
        ("heads", ctypes.c_int64),
        ("head_density", ctypes.POINTER(ctypes.c_float)),
        ("head_recall", ctypes.POINTER(ctypes.c_float)),
        ("stages", ctypes.c_int64),
        ("stage_names", ctypes.POINTER(ctypes.c_char_p)),
        ("stage_ms", ctypes.POINTER(ctypes.c_float)),
    ]


STEP_KINDS = {0: None, 1: "dense", 2: "refresh", 3: "reuse"}


def _candidates():
    here = pathlib.Path(__file__).resolve().parent
    yield here / "libsattn.so"
    yield here.parent.parent / "lib" / "libsattn.so"
    for parent in here.parents:
        yield parent / "build" / "lib" / "libsattn.so"


_lib = None


def library():
    """The loaded libsattn.so, with argument and result types declared."""
    global _lib
    if _lib is not None:
        return _lib
    env = os.environ.get("SATTN_LIBRARY")
    if env and not os.path.isfile(env):
        raise SattnError("SATTN_ERROR_IO",
                         f"SATTN_LIBRARY={env} is not a file")
    tried = []
    for path in [pathlib.Path(env)] if env else _candidates():
        tried.append(str(path))
        if path.is_file():
            lib = ctypes.CDLL(str(path))
            break
    else:
        raise SattnError(
            "SATTN_ERROR_IO",
            "libsattn.so not found; set SATTN_LIBRARY (tried: "
            + ", ".join(tried) + ")")
    lib.sattn_status_name.restype = ctypes.c_char_p
    lib.sattn_status_name.argtypes = [ctypes.c_int]
    lib.sattn_last_error.restype = ctypes.c_char_p
    lib.sattn_last_error.argtypes = []
    lib.sattn_context_create.restype = ctypes.c_int
    lib.sattn_context_create.argtypes = [ctypes.c_int,
                                         ctypes.POINTER(ctypes.c_void_p)]
    lib.sattn_context_destroy.restype = None
    lib.sattn_context_destroy.argtypes = [ctypes.c_void_p]
    lib.sattn_kernels_load.restype = ctypes.c_int
    lib.sattn_kernels_load.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                       ctypes.POINTER(ctypes.c_void_p)]
    lib.sattn_kernels_destroy.restype = None
    lib.sattn_kernels_destroy.argtypes = [ctypes.c_void_p]
    lib.sattn_compile.restype = ctypes.c_int
    lib.sattn_compile.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                                  ctypes.POINTER(ctypes.c_void_p),
                                  ctypes.POINTER(ctypes.c_void_p)]
    lib.sattn_free.restype = None
    lib.sattn_free.argtypes = [ctypes.c_void_p]
    lib.sattn_kernels_compile.restype = ctypes.c_int
    lib.sattn_kernels_compile.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                          ctypes.POINTER(ctypes.c_void_p)]
    lib.sattn_kernels_describe.restype = ctypes.c_int
    lib.sattn_kernels_describe.argtypes = [ctypes.c_void_p,
                                           ctypes.POINTER(KernelsInfo)]
    lib.sattn_sparse_attention.restype = ctypes.c_int
    lib.sattn_sparse_attention.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(Tensor), ctypes.POINTER(Tensor),
        ctypes.POINTER(Tensor), ctypes.POINTER(Tensor),
        ctypes.POINTER(BlockMask), ctypes.c_void_p, ctypes.c_void_p]
    lib.sattn_plan_create.restype = ctypes.c_int
    lib.sattn_plan_create.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_void_p)]
    lib.sattn_plan_destroy.restype = None
    lib.sattn_plan_destroy.argtypes = [ctypes.c_void_p]
    lib.sattn_run.restype = ctypes.c_int
    lib.sattn_run.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(Tensor), ctypes.POINTER(Tensor),
        ctypes.POINTER(Tensor), ctypes.POINTER(Tensor), ctypes.c_int64,
        ctypes.c_void_p]
    lib.sattn_plan_stats.restype = ctypes.c_int
    lib.sattn_plan_stats.argtypes = [ctypes.c_void_p,
                                     ctypes.POINTER(PlanStats)]
    lib.sattn_plan_set_profiling.restype = ctypes.c_int
    lib.sattn_plan_set_profiling.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.sattn_plan_describe.restype = ctypes.c_int
    lib.sattn_plan_describe.argtypes = [ctypes.c_void_p,
                                        ctypes.POINTER(KernelsInfo)]
    lib.sattn_plan_buffer.restype = ctypes.c_int
    lib.sattn_plan_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_void_p),
                                      ctypes.POINTER(ctypes.c_int64)]
    _lib = lib
    return lib


def check(status):
    """Raises SattnError for a failed status."""
    if status != SATTN_OK:
        lib = library()
        raise SattnError(lib.sattn_status_name(status).decode(),
                         lib.sattn_last_error().decode())
