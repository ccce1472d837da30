"""Builders of the shipped reference data, one module per family of datasets.

Each module exposes ``SPECS: list[DatasetSpec]``. The order here is the build order.
"""

from __future__ import annotations

import importlib

from critmin.refdata.registry import DatasetSpec

BUILDER_MODULES = (
    "minerals",
    "countries",
    "country_groups",
    "hts",
    "scope",
    "content",
    "supply",
    "tariff_lists",
    "tariff_2026",
    "eu_crm",
)


def all_specs() -> list[DatasetSpec]:
    specs: list[DatasetSpec] = []
    for name in BUILDER_MODULES:
        specs.extend(importlib.import_module(f"critmin.refdata.builders.{name}").SPECS)
    return specs
