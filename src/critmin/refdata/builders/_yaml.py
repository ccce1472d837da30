"""Strict loading of the curated YAML files.

PyYAML keeps the last of two equal keys in a mapping without a word, which in a hand-edited list of facts
silently drops the first entry. Curated files are read with a loader that refuses duplicate keys instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from critmin.errors import ReferenceDataError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that raises on a key repeated within one mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ReferenceDataError(
                f"{key_node.start_mark.name}:{key_node.start_mark.line + 1}: key {key!r} appears twice "
                "in one mapping; merge the two entries"
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_curated_yaml(path: Path) -> Any:
    """Parse one curated file, naming the file and line of any duplicate key."""
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_StrictLoader)  # a SafeLoader subclass
