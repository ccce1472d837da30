"""Measure and scenario files through the package's YAML reader, with its errors as :class:`PolicyError`
so that a syntax error, a duplicate key and a schema error in one file read the same way."""

from __future__ import annotations

from pathlib import Path

from critmin import yamlfile
from critmin.policy.errors import PolicyError
from critmin.yamlfile import YamlDocument, YamlFileError

__all__ = ["YamlDocument", "read_yaml"]


def read_yaml(path: Path) -> YamlDocument:
    try:
        return yamlfile.read(path, "measure or scenario YAML file")
    except YamlFileError as exc:
        raise PolicyError.single(exc.source, exc.key, exc.problem, exc.fix, line=exc.line) from exc
