"""Suite-wide fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test touches a real user workspace: the default points into the test's tmp dir."""
    monkeypatch.setenv("CRITMIN_WORKSPACE", str(tmp_path / "workspace.duckdb"))
    yield
