"""The monitor's public names: everything in __all__ imports, and the list is sorted."""

from __future__ import annotations

import critmin.monitor as monitor


def test_all_is_importable_and_sorted() -> None:
    for name in monitor.__all__:
        assert getattr(monitor, name) is not None, name
    assert list(monitor.__all__) == sorted(monitor.__all__)
