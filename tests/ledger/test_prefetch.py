"""The reader thread: order kept, errors surface where they happened, an early stop stops the reader."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from critmin.ledger.prefetch import Prefetched


def test_items_arrive_in_order() -> None:
    with Prefetched(iter(range(50)), depth=2) as items:
        assert list(items) == list(range(50))


def test_a_reader_error_surfaces_after_the_items_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("row 3 is unreadable")

    seen: list[int] = []
    with pytest.raises(ValueError, match="row 3 is unreadable"), Prefetched(failing()) as items:
        for item in items:
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_closes_the_reader() -> None:
    produced: list[int] = []
    closed: list[bool] = []

    def endless() -> Iterator[int]:
        try:
            number = 0
            while True:
                produced.append(number)
                yield number
                number += 1
        finally:
            closed.append(True)

    with Prefetched(endless(), depth=1) as items:
        for item in items:
            if item == 3:
                break
    assert closed == [True]
    assert len(produced) <= 3 + 1 + 2  # the item taken, the one queued, the one being handed over


def test_iterating_outside_the_with_block_is_refused() -> None:
    with pytest.raises(RuntimeError, match="inside its `with` block"):
        list(Prefetched(iter([1])))
