"""Parsing of repeated ``--set key=value`` options shared by several commands."""

from __future__ import annotations

from typing import Any

import typer

from critmin import yamlfile


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """``["a.b=0.25", "name=x"]`` -> ``{"a.b": 0.25, "name": "x"}``; values are read as YAML scalars."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"--set {item!r}: expected KEY=VALUE, e.g. --set floor.level=110")
        out[key.strip()] = yamlfile.scalar(raw)
    return out
