"""The one YAML reader for every file critmin reads: measures, scenarios, trees, projects, sourcing problems,
watchlists, events, header maps, ``--set`` values and the curated reference files.

Three rules hold everywhere because the files are edited by hand:

- **A key written twice in one mapping is an error** naming both lines. PyYAML silently keeps the last, so a
  measure with ``id:`` twice would quietly become another measure.
- **Dates stay text.** PyYAML turns ``2026-07-24`` into a ``date`` but raises a bare ``ValueError`` without a
  line for ``2026-13-01``; left as text, the pydantic model that owns the field parses it and names the field.
- **Every value keeps its line.** The node tree is kept, so a validation error location such as
  ``("measures", 3, "rate")`` can be walked back to the line the user has to edit.

Callers that have their own error type (policy files, curated data) translate :class:`YamlFileError`; the
rest let it through, and it answers as bad input (exit 2, HTTP 400).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from critmin.errors import InputError


class YamlFileError(InputError):
    """A YAML text that cannot be read: not found, not UTF-8, not valid YAML, or a key written twice."""

    def __init__(self, source: str, line: int | None, key: str, problem: str, fix: str) -> None:
        self.source = source
        self.line = line
        self.key = key
        self.problem = problem
        self.fix = fix
        where = f"{source}:{line}" if line is not None else source
        what = f" key `{key}`" if key else ""
        super().__init__(f"{where}:{what} {problem} Fix: {fix}")


class _Loader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp resolver."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class YamlDocument:
    """Parsed data plus the node tree it came from."""

    path: str
    data: Any
    root: yaml.Node | None

    def line_of(self, loc: Sequence[int | str]) -> int | None:
        """1-based line of the deepest node reachable along ``loc`` (unknown steps are skipped)."""
        if self.root is None:
            return None
        found = self.root
        for step in loc:
            child = _child(found, step)
            if child is None:
                continue  # e.g. a pydantic union tag that has no node of its own
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


def parse(text: str, source: str | Path = "<text>") -> YamlDocument:
    """Parse one YAML document from ``text``; ``source`` names it in errors."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is not None:  # before construction, which merges ``<<`` keys into the mapping in place
            _refuse_duplicate_keys(root, str(source))
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlFileError(
            str(source),
            mark.line + 1 if mark is not None else None,
            "",
            f"is not valid YAML: {exc.problem or exc}.",
            "check indentation and quoting around this line (strings containing ':' or '#' need quotes).",
        ) from exc
    except yaml.YAMLError as exc:
        raise YamlFileError(
            str(source), None, "", f"is not valid YAML: {exc}.", "save it as YAML text."
        ) from exc
    finally:
        loader.dispose()
    return YamlDocument(str(source), data, root)


def load(text: str, source: str | Path = "<text>") -> Any:
    """The data of one YAML document (no line marks kept)."""
    return parse(text, source).data


def read(path: Path, kind: str = "YAML file") -> YamlDocument:
    """Read and parse a UTF-8 YAML file; ``kind`` (``"project file"``) names what was expected there."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError) as exc:
        problem = "does not exist." if isinstance(exc, FileNotFoundError) else "is a directory."
        raise YamlFileError(str(path), None, "", problem, f"give the path of a {kind}.") from exc
    except UnicodeDecodeError as exc:
        raise YamlFileError(str(path), None, "", "is not UTF-8 text.", "save the file as UTF-8.") from exc
    return parse(text, path)


def scalar(text: str) -> Any:
    """A ``--set`` value read as a YAML scalar (``0.25`` a number, ``40%`` and dates text); text that is not
    valid YAML (``a: b: c``) stays as written, for the parameter's own validation to judge."""
    if not text.strip():
        return None
    try:
        return load(text)
    except YamlFileError:
        return text


def _refuse_duplicate_keys(root: yaml.Node, source: str) -> None:
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
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":  # merge keys are exempt
                    line = key.start_mark.line + 1
                    if key.value in first:
                        raise YamlFileError(
                            source,
                            line,
                            key.value,
                            f"is written twice in the same mapping (lines {first[key.value]} and {line}).",
                            "keep one of them: YAML would silently use the last.",
                        )
                    first[key.value] = line
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
