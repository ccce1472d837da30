"""Process-wide settings for long runs over big ledgers.

The duty engine allocates NumPy arrays of a few megabytes per batch (row numbers, masks, per-line totals).
glibc serves allocations that large with a fresh ``mmap`` and hands the pages back to the kernel on free,
so every batch faults its arrays in again, page by page. On the 2-core reference machine that was about
150,000 page faults and a fifth of the CPU time per 2 million lines. Raising the mmap and trim thresholds
keeps freed memory in the heap for the next batch to reuse.

This changes the whole process's allocator, so the library never does it behind a caller's back: the
``critmin`` command and the benchmarks call :func:`reuse_freed_memory` at start-up, and a program that
embeds the engine (a Spark executor, a notebook evaluating a large ledger) can call it too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024
"""Allocations up to this size come from the heap (glibc's largest default dynamic threshold)."""
TRIM_THRESHOLD = 256 * 1024 * 1024
"""Free memory kept at the top of the heap before it is returned to the kernel."""


def reuse_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse. Returns whether the setting took (False off glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
