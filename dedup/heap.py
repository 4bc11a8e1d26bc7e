"""glibc's heap settings for the two-pass engine (:mod:`dedup.twopass`): where freed memory
goes back to the system, and where it is kept for the next task.

A block of :data:`SMALL` bytes or more that glibc maps afresh is given back when freed, and
costs a page fault for each 4 KiB page the next time: at 100,000 documents the main process
of ``dedup clean --only duplicates`` took 605,000 page faults (3 s of system time on this
2-core machine, where every process shares two cores), and each worker as many as its
blocks of input. Memory kept in the heap is reused without faults, but the heap cannot
shrink past the blocks still held. The settings below choose per process and per phase.
Elsewhere than on glibc (musl, macOS), nothing is done.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Iterator
from contextlib import contextmanager

SMALL = 128 * 1024  # glibc's default threshold for blocks mapped apart from the heap
KEPT = 32 << 20  # freed memory kept at the top of the heap (glibc's default: 128 KiB)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_returning = False  # whether return_freed_memory set this process's thresholds


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt  # noqa: B018 - glibc's, not another C library's
    except (OSError, AttributeError):
        return None
    return libc


def return_freed_memory() -> None:
    """Keep blocks of :data:`SMALL` bytes and more out of the heap, so that freeing them gives
    the memory back to the system; keep up to :data:`KEPT` bytes freed at the top of the heap,
    where smaller blocks come from. A setting of the whole process: the CLI makes it before
    :func:`dedup.twopass.clean_files`; a program calling the library decides for itself.

    glibc raises its threshold for such blocks each time one is freed, up to 32 MiB; then the
    arrays each block of pass 1 brings back are carved from the heap, which cannot shrink past
    the ones still held: at 300,000 documents the process kept 155 MB it had freed. Worker
    processes forked later inherit the setting. With glibc's 128 KiB at the top, the workers
    that align texts (tens of KB each, read and freed for every pair) took a page fault for
    nearly every page of every text.
    """
    global _returning
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, SMALL)
        libc.mallopt(_M_TRIM_THRESHOLD, KEPT)
        _returning = True


def reuse_freed_memory(size: int) -> None:
    """Take blocks of up to ``size`` bytes from the heap, and keep up to that much (at least
    :data:`KEPT`) freed at its top: for a worker process whose tasks each allocate and free
    about as much (the heap goes when the worker does)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, size)
        libc.mallopt(_M_TRIM_THRESHOLD, max(size, KEPT))


@contextmanager
def reusing(size: int) -> Iterator[None]:
    """:func:`reuse_freed_memory` within the block, for a phase that makes and frees many
    temporary arrays; after it, :func:`return_freed_memory`'s setting again, and the heap's
    free pages given back (``malloc_trim``, which also frees pages between blocks still held).
    Only where :func:`return_freed_memory` set the thresholds: otherwise they are the
    program's own, and glibc's default adapts already."""
    libc = _libc() if _returning else None
    if libc is None:
        yield
        return
    reuse_freed_memory(size)
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_THRESHOLD, SMALL)
        libc.mallopt(_M_TRIM_THRESHOLD, KEPT)
        libc.malloc_trim(0)
