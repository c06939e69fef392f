"""The C kernels' ctypes bindings, from one table of signatures, and the one place every call's status is
checked: a kernel that returns anything but 0 raises KernelError, which the trainer answers by falling back to
PyTorch's operators for the rest of the run."""
from __future__ import annotations

import ctypes
import os
from pathlib import Path

import torch

from ..entry_points import entry_point_check, trusted
from . import build

POINTER, INT, FLOAT = ctypes.c_void_p, ctypes.c_int, ctypes.c_float

# library → function → (argument types, result type). A result type of INT is a status: 0 means done.
SIGNATURES: dict[str, dict[str, tuple[list, object]]] = {
    "first_stage": {
        "first_stage_forward": ([POINTER] * 5 + [INT] * 8, INT),
        "first_stage_backward": ([POINTER] * 5 + [INT] * 8, INT),
    },
    "conv_weight_grad": {
        "conv_weight_grad": ([POINTER] * 4 + [INT] * 8, INT),
    },
    "dense_step": {
        "dense_train_chunk": ([POINTER] * 4 + [INT, INT] + [POINTER] * 5 + [FLOAT, FLOAT, INT] + [POINTER] * 2, INT),
        "dense_train_step_adam": ([POINTER] * 4 + [INT, INT] + [POINTER] * 5 + [FLOAT] + [POINTER] * 4
                                  + [FLOAT] * 4 + [INT], INT),
        "dense_head_chunk": ([POINTER] * 5 + [INT, INT] + [POINTER] * 5 + [FLOAT, FLOAT, INT] + [POINTER] * 2, INT),
        "gather_images": ([POINTER, POINTER, INT, INT, POINTER], None),
    },
    "floating_point": {
        "denormals_flushed": ([INT, INT], INT),
    },
    "winograd": {
        "winograd_filter": ([POINTER] * 2 + [INT] * 3, None),
        "winograd_points": ([], INT),
        "winograd_forward": ([POINTER] * 4 + [INT] * 9, INT),
        "winograd_weight_grad": ([POINTER] * 4 + [INT] * 7, INT),
        "winograd_forward_pool_relu": ([POINTER] * 5 + [INT] * 7, INT),
        "pool_relu_backward": ([POINTER] * 4 + [INT] * 5, INT),
    },
}
STATUS_FUNCTIONS = {name for functions in SIGNATURES.values() for name, (_, result) in functions.items()
                    if result is INT and name not in ("winograd_points", "denormals_flushed")}
# libraries that set how the CPU computes rather than replace PyTorch's operators: FMNIST_NATIVE=0 keeps them
SETTINGS_LIBRARIES = {"floating_point"}


class KernelError(RuntimeError):
    """A C kernel failed (its status was not 0: a shape it refuses, memory it could not get)."""


_calls = [0]  # kernel calls made by this process: what FMNIST_KERNEL_FAULT counts


def library(name: str) -> ctypes.CDLL | None:
    """The compiled library `name` with its functions typed from SIGNATURES, or None (why: build.why_not)."""
    loaded = build.load_library(name, even_when_off=name in SETTINGS_LIBRARIES)
    if loaded is not None and not getattr(loaded, "_typed", False):
        for function, (argtypes, restype) in SIGNATURES[name].items():
            getattr(loaded, function).argtypes = argtypes
            getattr(loaded, function).restype = restype
        loaded._typed = True
    return loaded


def call(name: str, function: str, *args) -> int | None:
    """Call `function` of library `name`; KernelError when it reports a failure. FMNIST_KERNEL_FAULT=N makes the
    Nth kernel call of the process fail, to exercise the fall-back path on real training."""
    if function in STATUS_FUNCTIONS:
        _calls[0] += 1
        if _calls[0] == int(os.environ.get("FMNIST_KERNEL_FAULT") or 0):  # fails before it runs, as a refusal does
            raise KernelError(f"{function} failed (FMNIST_KERNEL_FAULT={_calls[0]})")
    result = getattr(library(name), function)(*args)
    if function in STATUS_FUNCTIONS and result != 0:
        raise KernelError(f"{function} failed with status {result}")
    return result


def address(tensor: torch.Tensor) -> ctypes.c_void_p:
    return ctypes.c_void_p(tensor.data_ptr())


def pointers(tensors) -> ctypes.Array:
    return (ctypes.c_void_p * len(tensors))(*(tensor.data_ptr() for tensor in tensors))


_sgemm: list[int | None] = []


def blas_sgemm() -> int | None:
    """Address of the Fortran `sgemm_` of PyTorch's CPU library (MKL in the Linux x86 wheels), or None. PyTorch
    has no public handle on its BLAS; where this symbol is missing, or its first product disagrees with torch.mm,
    the MLP kernel is not used."""
    return _found_sgemm() if trusted("sgemm") else None


def _found_sgemm() -> int | None:
    if not _sgemm:
        address_found = None
        for file_name in ("libtorch_cpu.so", "libtorch_cpu.dylib"):
            try:
                address_found = ctypes.cast(ctypes.CDLL(str(Path(torch.__file__).parent / "lib" / file_name)).sgemm_,
                                            ctypes.c_void_p).value
                break
            except (OSError, AttributeError):
                continue
        _sgemm.append(address_found)
    return _sgemm[0]


@entry_point_check("sgemm")
def _sgemm_agrees() -> bool:
    """One small product by the found `sgemm_`, sizes passed as 64-bit integers as the kernel passes them (right for
    a BLAS of 32- or 64-bit integers on a little-endian machine), against torch.mm."""
    address_found = _found_sgemm()
    if address_found is None:
        return False
    size = ctypes.c_longlong
    function = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, *[ctypes.POINTER(size)] * 3,
                                ctypes.POINTER(ctypes.c_float), ctypes.c_void_p, ctypes.POINTER(size),
                                ctypes.c_void_p, ctypes.POINTER(size), ctypes.POINTER(ctypes.c_float),
                                ctypes.c_void_p, ctypes.POINTER(size))(address_found)
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(3, 5, generator=generator), torch.randn(5, 4, generator=generator)
    product = torch.zeros(3, 4)
    m, n, k = size(4), size(3), size(5)  # row-major a @ b is column-major b^T a^T: (4×5)(5×3)
    one, zero = ctypes.c_float(1.0), ctypes.c_float(0.0)
    function(b"N", b"N", ctypes.byref(m), ctypes.byref(n), ctypes.byref(k), ctypes.byref(one),
             ctypes.c_void_p(b.data_ptr()), ctypes.byref(size(4)), ctypes.c_void_p(a.data_ptr()),
             ctypes.byref(size(5)), ctypes.byref(zero), ctypes.c_void_p(product.data_ptr()), ctypes.byref(size(4)))
    return torch.allclose(product, torch.mm(a, b), atol=1e-5)
