"""Worker processes started with one shared object (the documents of a run, the counts of its
lines...), every pool of the project made here. Where the platform can fork, the workers
inherit the object, and the compiled kernels, instead of receiving them pickled."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

_shared: object = None  # in a worker: what its pool was started with


def share(obj: object) -> None:
    """Make ``obj`` what :func:`shared` returns in this process (a worker's initialiser; tests
    call it to run tasks in threads)."""
    global _shared
    _shared = obj


def shared() -> object:
    """In a worker of :func:`processes`: the object the pool was started with."""
    return _shared


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def ranges(n: int, size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of consecutive ranges of ``size`` items (the last one shorter) over ``n``."""
    return [(s, min(n, s + size)) for s in range(0, n, size)]


def workers_for(jobs: int, n: int, per_worker: int) -> int:
    """Processes to use for ``n`` items under ``--jobs`` (0: all cores), at least ``per_worker``
    items each (below that, forking costs more than it saves); 1 where the platform cannot fork."""
    return min(jobs or os.cpu_count() or 1, n // per_worker) if can_fork() else 1


@contextlib.contextmanager
def frozen() -> Iterator[None]:
    """The objects made so far left out of the cyclic garbage collector's passes
    (``gc.freeze``) while worker processes forked from here run: a collection in a worker
    writes to every object it inherited and so copies the pages that hold them (at 100,000
    documents, the peak memory of ``--only duplicates`` went from 341-400 MB to 313-316 MB)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def processes(workers: int, obj: object = None) -> Iterator[ProcessPoolExecutor]:
    """``workers`` processes, each with ``obj`` as :func:`shared`: forked from this one where
    the platform can, otherwise started afresh, each sent ``obj`` pickled."""
    from .kernel import warm_up  # here: a command that starts no pool need not load the kernel

    warm_up()  # tables and compiled code made once, before the workers are forked
    context = multiprocessing.get_context("fork" if can_fork() else "spawn")
    with frozen(), ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=share, initargs=(obj,)) as pool:
        yield pool


@contextlib.contextmanager
def worker_pool(workers: int, obj: object = None) -> Iterator[ProcessPoolExecutor | None]:
    """:func:`processes`, or None for one worker (the caller runs its tasks itself)."""
    if workers <= 1:
        yield None
        return
    with processes(workers, obj) as pool:
        yield pool
