"""YAML loading for monitor files: dates stay strings so pydantic validates them with the field's location
(PyYAML would raise a bare ``ValueError`` for an impossible date such as ``2026-13-01``)."""

from __future__ import annotations

from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)
