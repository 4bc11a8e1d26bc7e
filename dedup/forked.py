"""Worker processes forked with one shared object, which they inherit instead of receiving it
pickled (the documents of a run, the counts of its lines...). Where the platform cannot fork,
callers run their tasks in their own process."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

_shared: object = None  # in a worker: what its pool was started with


def _share(obj: object) -> None:
    global _shared
    _shared = obj


def shared() -> object:
    """In a worker of :func:`forked_pool`: the object the pool was started with."""
    return _shared


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def forked_pool(workers: int, obj: object) -> ProcessPoolExecutor:
    """``workers`` processes forked from this one, each with ``obj`` as :func:`shared`."""
    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_share, initargs=(obj,))
