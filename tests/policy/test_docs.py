"""docs/measures.md documents every field of the measure and scenario formats (so the docs cannot drift)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from critmin.policy import models

DOC = Path(__file__).resolve().parents[2] / "docs" / "measures.md"

MODELS = [
    models.Measure,
    models.ProductScope,
    models.OriginScope,
    models.Claim,
    models.ContentSpec,
    models.AdValorem,
    models.Specific,
    models.Compound,
    models.ScheduleRate,
    models.PriceFloor,
    models.ReferencePrice,
    models.Quota,
    models.Allocation,
    models.Stacking,
    models.Citation,
    models.ScenarioSpec,
    models.Parameter,
    models.MeasureFile,
    models.HtsListRef,
    models.TopUpToCap,
    models.MinimumPriceBackstop,
    models.MetalWeightGate,
    models.UsContentGate,
]


def test_measures_table_is_current() -> None:
    from critmin.policy.catalogue import markdown_table

    assert markdown_table() in DOC.read_text(encoding="utf-8"), (
        "docs/measures.md's table of measures is stale: replace the block between the measures-table markers "
        "with critmin.policy.catalogue.markdown_table()"
    )


def test_every_field_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [
        f"{model.__name__}.{name}"
        for model in MODELS
        if issubclass(model, BaseModel)
        for name in model.model_fields
        if f"`{name}`" not in text and f"{name}:" not in text
    ]
    assert not missing, f"docs/measures.md does not mention: {missing}"


def test_every_enum_value_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for enum in (models.Authority, models.LegalStatus, models.Basis):
        for value in enum:
            assert value.value in text, value
