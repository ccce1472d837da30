"""An in-memory cache of computed views, safe under concurrent requests.

Twenty clients asking for the same uncomputed view must not start twenty duty runs: the first computes,
the others wait on that key's lock and get its result. Entries are evicted least-recently-used beyond a
fixed count, and the whole cache is dropped when a new import changes what a ledger contains.

What the cache holds lives long and never forms garbage while held, yet Python's cyclic garbage
collector would walk all of it in every full collection: with an analysis cached, each one stopped the
server for 120-150 ms, stalling every request in flight (the slowest 5 % of cached requests under 20
clients). So each newly cached value is moved out of the collector's sight (:func:`gc.freeze`), and
:meth:`ComputeCache.clear` and evictions hand it back (:func:`gc.unfreeze`), so whatever a dropped entry
leaves behind in reference cycles is still collected.
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0


class ComputeCache:
    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()
        self._generation = 0
        self.stats = CacheStats()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._guard:
            if key in self._values:
                self._values.move_to_end(key)
                self.stats.hits += 1
                return self._values[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._values:  # computed by the request we waited for
                    self._values.move_to_end(key)
                    self.stats.hits += 1
                    return self._values[key]
                generation = self._generation
                self.stats.misses += 1
            try:
                value = compute()
                with self._guard:
                    if generation == self._generation:  # not invalidated while we computed
                        self._values[key] = value
                        evicted = False
                        while len(self._values) > self.max_entries:
                            self._values.popitem(last=False)
                            self.stats.evictions += 1
                            evicted = True
                        if evicted:
                            gc.unfreeze()
                        gc.freeze()  # the new entry (and all else alive now) out of full collections
            finally:
                with self._guard:
                    self._locks.pop(key, None)
            return value

    def clear(self) -> None:
        with self._guard:
            self._values.clear()
            self._generation += 1
        gc.unfreeze()  # what the dropped entries leave in cycles is collected again

    def __len__(self) -> int:
        return len(self._values)
