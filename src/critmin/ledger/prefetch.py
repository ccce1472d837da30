"""Read the next chunk while the current one is normalised.

Parsing a chunk (pyarrow) and normalising one (Polars) both release the GIL, so on a two-core machine a
reader thread that stays one or two chunks ahead hides most of the parsing time. Memory grows by at most
``depth`` chunks. Errors raised by the reader surface in the consumer, at the chunk where they happened,
and a consumer that stops early (an exception in a sink, a closed generator) stops the reader too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_POLL_S = 0.1


class _Done:
    """Marks the end of the items."""


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Prefetched(Generic[T]):
    """Iterate once, inside a ``with`` block: the block's end stops and joins the reader thread, whether
    or not every item was consumed. The thread starts on entry, so it reads while the caller sets up."""

    def __init__(self, items: Iterator[T], depth: int = 1) -> None:
        if depth < 1:
            raise ValueError("depth must be at least 1")
        self._items = items
        self._queue: queue.Queue[T | _Done | _Failed] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="critmin-prefetch", daemon=True)

    def __enter__(self) -> Prefetched[T]:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _put(self, item: T | _Done | _Failed) -> bool:
        """Hand over one item, unless the consumer has gone; False when it has."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
            self._put(_Done())
        except BaseException as exc:
            self._put(_Failed(exc))
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Iterator[T]:
        if self._thread.ident is None:
            raise RuntimeError("iterate a Prefetched inside its `with` block")
        while True:
            item = self._queue.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
