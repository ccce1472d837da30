"""The view cache: one computation per key however many requests ask at once; dropped on a new import."""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from critmin.web.cache import ComputeCache


def test_concurrent_requests_share_one_computation() -> None:
    cache = ComputeCache()
    calls = 0
    lock = threading.Lock()

    def slow() -> int:
        nonlocal calls
        with lock:
            calls += 1
        time.sleep(0.2)
        return 42

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: cache.get_or_compute(("k",), slow), range(20)))
    assert results == [42] * 20
    assert calls == 1
    assert cache.stats.misses == 1 and cache.stats.hits == 19


def test_different_keys_compute_in_parallel() -> None:
    cache = ComputeCache()
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda k: cache.get_or_compute(k, lambda: time.sleep(0.3)), range(4)))
    assert time.perf_counter() - started < 1.0  # 4 x 0.3 s run side by side, not one after another


def test_least_recently_used_is_evicted() -> None:
    cache = ComputeCache(max_entries=2)
    cache.get_or_compute("a", lambda: 1)
    cache.get_or_compute("b", lambda: 2)
    cache.get_or_compute("a", lambda: 0)  # touch a
    cache.get_or_compute("c", lambda: 3)  # evicts b
    assert cache.get_or_compute("a", lambda: -1) == 1
    assert cache.get_or_compute("b", lambda: 20) == 20
    assert cache.stats.evictions == 2


def test_failures_are_not_cached() -> None:
    cache = ComputeCache()

    def boom() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.get_or_compute("k", boom)
    assert cache.get_or_compute("k", lambda: 7) == 7


def test_a_result_computed_across_a_clear_is_not_kept() -> None:
    cache = ComputeCache()
    inside = threading.Event()
    release = threading.Event()

    def compute() -> str:
        inside.set()
        release.wait(5)
        return "stale"

    worker = threading.Thread(target=lambda: cache.get_or_compute("k", compute))
    worker.start()
    inside.wait(5)
    cache.clear()  # an import landed while the old ledger's view was being computed
    release.set()
    worker.join(5)
    assert len(cache) == 0
    assert cache.get_or_compute("k", lambda: "fresh") == "fresh"


def test_cached_values_are_kept_out_of_full_collections() -> None:
    """A full collection walking an analysis held in the cache stopped the server for 120-150 ms; cached
    values are frozen out of it, and handed back when the cache is dropped."""
    gc.unfreeze()
    cache = ComputeCache(max_entries=1)
    held = cache.get_or_compute("a", lambda: [[i] for i in range(1000)])
    assert gc.get_freeze_count() >= len(held)
    cache.get_or_compute("b", lambda: [[i] for i in range(10)])  # evicts a: everything handed back, refrozen
    assert gc.get_freeze_count() > 0
    cache.clear()
    assert gc.get_freeze_count() == 0
