"""Curated YAML files through the package's YAML reader (duplicate keys refused, dates kept as text),
with its errors as :class:`ReferenceDataError`: a broken curated file is critmin's fault, not the user's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from critmin import yamlfile
from critmin.errors import ReferenceDataError
from critmin.yamlfile import YamlFileError


def load_curated_yaml(path: Path) -> Any:
    """Parse one curated file, naming the file and line of any problem."""
    try:
        return yamlfile.read(path, "curated YAML file").data
    except YamlFileError as exc:
        raise ReferenceDataError(str(exc)) from exc
