"""YAML reading that remembers where every value came from.

PyYAML's composer keeps a start mark (line, column) on each node. We compose the node tree once, construct
plain Python data from it, and keep the tree so that a Pydantic error location such as
``("measures", 3, "rate", "rate")`` can be walked back to the line the user has to edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from critmin.policy.errors import PolicyError


@dataclass(frozen=True)
class YamlDocument:
    """Parsed data plus the node tree it came from."""

    path: str
    data: Any
    root: yaml.Node | None

    def line_of(self, loc: Sequence[int | str]) -> int | None:
        """1-based line of the deepest node reachable along ``loc`` (unknown steps are skipped)."""
        node = self.root
        if node is None:
            return None
        found = node
        for step in loc:
            child = _child(found, step)
            if child is None:
                continue  # e.g. a Pydantic union tag that has no node of its own
            found = child
        return found.start_mark.line + 1


def _child(node: yaml.Node, step: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                return value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        child: yaml.Node = node.value[step]
        return child
    return None


def parse_yaml(text: str, path: str | Path) -> YamlDocument:
    """Parse one YAML document; a syntax error becomes a :class:`PolicyError` naming the line."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise PolicyError.single(
            path,
            "",
            f"is not valid YAML: {exc.problem or exc}.",
            "check indentation and quoting around this line (strings containing ':' or '#' need quotes).",
            line=line,
        ) from exc
    finally:
        loader.dispose()
    if root is not None:
        _refuse_duplicate_keys(root, path)
    return YamlDocument(str(path), data, root)


def _refuse_duplicate_keys(root: yaml.Node, path: str | Path) -> None:
    """A key written twice in one mapping is an error naming both lines: PyYAML silently keeps the last,
    so a measure with ``id:`` twice would quietly become another measure. Merge keys (``<<``) are exempt."""
    pending = [root]
    seen_nodes: set[int] = set()
    while pending:
        node = pending.pop()
        if id(node) in seen_nodes:  # anchors make the tree a graph; visit each node once
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    line = key.start_mark.line + 1
                    if key.value in first:
                        raise PolicyError.single(
                            path,
                            key.value,
                            f"is written twice in the same mapping (lines {first[key.value]} and {line}).",
                            "keep one of them: YAML would silently use the last.",
                            line=line,
                        )
                    first[key.value] = line
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)


def read_yaml(path: Path) -> YamlDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyError.single(
            path, "", "does not exist.", "give the path of a measure or scenario YAML file."
        ) from exc
    except UnicodeDecodeError as exc:
        raise PolicyError.single(path, "", "is not UTF-8 text.", "save the file as UTF-8.") from exc
    return parse_yaml(text, path)
