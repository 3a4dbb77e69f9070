"""Process memory: large transient buffers go back to the operating system.

glibc's malloc raises its mmap threshold each time a large block is freed (up to 32 MiB), after which
blocks of that size come from per-thread arenas and stay resident once freed. A web process that
hashed a password (8 MiB for scrypt) or read a large upload in each of its threads would keep that
much per thread for good. Fixing the threshold (which also stops it moving) and capping the number of
arenas keeps such buffers returnable. The same effect as the MALLOC_MMAP_THRESHOLD_ and
MALLOC_ARENA_MAX environment variables, which win when they are set.
"""

from __future__ import annotations

import ctypes
import os
import platform

M_MMAP_THRESHOLD = -3  # from glibc's <malloc.h>
M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024  # glibc's starting value, now fixed
ARENA_MAX = 2

_tuned = False


def return_large_buffers() -> None:
    """Tune glibc's malloc, once per process (elsewhere, nothing to do)."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    libc = ctypes.CDLL(None)
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    if "MALLOC_ARENA_MAX" not in os.environ:
        libc.mallopt(M_ARENA_MAX, ARENA_MAX)
