"""The vectorised engine agrees with the row-by-row reference implementation (conftest.rowwise) on random
ledgers, under the shipped libraries and under randomly generated measures."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import hypothesis.strategies as st
import polars as pl
from hypothesis import HealthCheck, assume, given, settings

from critmin.duty import evaluate
from critmin.policy import loader
from critmin.policy.errors import PolicyError
from critmin.policy.loader import MeasureSet
from critmin.policy.models import Measure

CITE = [
    {
        "document": "Test citation for a generated measure",
        "date": "2026-01-01",
        "url": "https://example.org/t",
    }
]

HTS_POOL = [
    "8505110070",  # NdFeB magnets (301 2026 list, Section 122 exempt, content factors)
    "8505110050",  # SmCo magnets
    "2846902040",  # rare-earth oxides (classified basket; floors and quotas)
    "2805300020",  # neodymium metal
    "7408116000",  # copper wire (232 copper list; 301 list 3)
    "8544493000",  # insulated cable (232 copper, content factor)
    "8507600020",  # Li-ion cells (301, content factors)
    "0402295000",  # compound MFN rate $1.104/kg + 14.9%
    "2825200000",  # lithium hydroxide
    "8112921000",  # gallium
    "7606125000",  # aluminium plate (232 aluminium article)
    "7318150000",  # steel screws (chapter 73, steel article)
    "8541100070",  # diodes (301 list 3 and the 2025 increase)
    "3824993910",  # NMC cathode material
    "0101210010",  # horses (outside every critical-mineral list)
]
COUNTRIES = ["CHN", "AUS", "CAN", "MEX", "DEU", "JPN", "CHL", "RUS", "ARG", "GBR", "UKR", "KOR", "HKG"]
PROGRAMS = [None, None, None, "S", "CL", "AU", "KR", "A"]
START = date(2025, 1, 1)


@st.composite
def ledger_rows(draw: Any, max_lines: int = 25) -> list[dict[str, Any]]:
    n = draw(st.integers(min_value=1, max_value=max_lines))
    rows = []
    for i in range(n):
        qkg = draw(st.one_of(st.none(), st.floats(min_value=0.0, max_value=5000.0, allow_nan=False)))
        content = draw(st.sampled_from([None, None, "copper", "neodymium", "aluminum", "steel"]))
        rows.append(
            {
                "line_id": f"L{i:03d}",
                "entry_date": START + timedelta(days=draw(st.integers(min_value=0, max_value=730))),
                "hts": draw(st.sampled_from(HTS_POOL)),
                "country_origin": draw(st.sampled_from(COUNTRIES)),
                "country_smelt_cast": draw(st.sampled_from([None, None, "CHN", "CAN"])),
                "supplier": draw(st.sampled_from(["A", "B", None])),
                "quantity_kg": qkg,
                "quantity": qkg,
                "unit": "kg" if qkg is not None else None,
                "customs_value_usd": draw(st.floats(min_value=0.0, max_value=1e6, allow_nan=False)),
                "preference_program": draw(st.sampled_from(PROGRAMS)),
                "content_mineral": content,
                "content_value_usd": draw(st.one_of(st.none(), st.floats(min_value=0.0, max_value=5e5)))
                if content
                else None,
                "content_kg": draw(st.one_of(st.none(), st.floats(min_value=0.0, max_value=500.0)))
                if content
                else None,
            }
        )
    return rows


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def assert_agree(
    frame: pl.DataFrame, measure_set: MeasureSet, helpers: Any, as_of: date | None = None
) -> None:
    result = evaluate(frame, measure_set, as_of=as_of)
    engine = {
        (r["line_id"], r["measure_id"], r["tranche"]): r
        for r in result.components.with_columns(pl.col(pl.Enum).cast(pl.String)).iter_rows(named=True)
    }
    expected = helpers.rowwise(frame, measure_set, as_of=as_of, oracle=helpers.oracle)
    keys = {(c.line_id, c.measure_id, c.tranche) for c in expected}
    assert set(engine) == keys, (sorted(set(engine) - keys), sorted(keys - set(engine)))
    duty = {lid: 0.0 for lid in frame.get_column("line_id").to_list()}
    for comp in expected:
        got = engine[(comp.line_id, comp.measure_id, comp.tranche)]
        for case, column in (("central", "amount"), ("low", "amount_low"), ("high", "amount_high")):
            assert _close(got[column], comp.amount[case]), (comp, case, got[column])
        assert got["payer"] == comp.payer
        if comp.payer == "customs" and not comp.refund and comp.tranche != "unavailable":
            duty[comp.line_id] += comp.amount["central"] or 0.0
    totals = dict(result.lines.select("line_id", "duty").iter_rows())
    for lid, value in duty.items():
        assert math.isclose(totals[lid], value, rel_tol=1e-9, abs_tol=1e-6), lid


SCENARIOS = [
    "status_quo",
    "s232_tariff_non_partners",
    "price_floor_partners_tariff_others",
    "minimum_import_price",
    "trq",
    "combined",
]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ledger_rows(), scenario=st.sampled_from(SCENARIOS), redate=st.booleans())
def test_shipped_scenarios_agree_with_reference(
    rows: list[dict[str, Any]], scenario: str, redate: bool, helpers: Any
) -> None:
    sets = ["quota_kg=3000"] if scenario in {"trq", "combined"} else []
    measure_set = loader.load_scenario(scenario, sets)
    assert_agree(helpers.ledger(rows), measure_set, helpers, as_of=date(2026, 9, 1) if redate else None)


# ---------------------------------------------------------------------------------------------------------
# random measures


@st.composite
def rates(draw: Any, basis: str) -> dict[str, Any]:
    if basis in {"quantity", "content_mass"}:
        return {"kind": "specific", "amount": draw(st.floats(min_value=0, max_value=20)), "unit": "kg"}
    kind = draw(st.sampled_from(["ad_valorem", "ad_valorem", "compound"]))
    if kind == "ad_valorem":
        return {"kind": kind, "rate": draw(st.floats(min_value=0, max_value=1.0))}
    return {
        "kind": kind,
        "rate": draw(st.floats(min_value=0, max_value=1.0)),
        "amount": draw(st.floats(min_value=0, max_value=5)),
        "unit": "kg",
    }


@st.composite
def random_measure(draw: Any, index: int, earlier: list[str]) -> dict[str, Any]:
    basis = draw(
        st.sampled_from(
            [
                "customs_value",
                "customs_value",
                "content_value",
                "non_content_value",
                "quantity",
                "content_mass",
            ]
        )
    )
    products: dict[str, Any] = draw(
        st.sampled_from(
            [
                {"all": True},
                {"hts": ["8505", "2846"]},
                {"hts": ["74", "8544"]},
                {"classified": True, "stages": ["oxide_salt_compound", "metal_powder_alloy"]},
                {"minerals": ["neodymium", "copper"]},
                {"all": True, "exclude_hts_lists": [{"dataset": "s122_exempt_products"}]},
            ]
        )
    )
    origin = draw(
        st.sampled_from(
            [
                {},
                {"countries": ["CHN", "HKG"]},
                {"exclude_groups": ["us_cm_frameworks", "usmca"]},
                {"groups": ["eu27", "us_fta"]},
                {"country_field": "country_smelt_cast", "countries": ["CHN"]},
            ]
        )
    )
    fields: dict[str, Any] = {
        "id": f"m{index}",
        "authority": draw(st.sampled_from(["section_232", "section_301", "section_122", "other"])),
        "status": draw(st.sampled_from(["scenario", "in_force", "expired"])),
        "products": products,
        "origin": origin,
        "basis": basis,
        "stacking": {"precedence": draw(st.integers(min_value=1, max_value=4)) * 10},
    }
    start = draw(st.one_of(st.none(), st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31))))
    if start is not None:
        fields["effective_from"] = start
        if draw(st.booleans()):
            fields["effective_until"] = start + timedelta(days=draw(st.integers(min_value=0, max_value=400)))
    if basis in {"content_value", "non_content_value", "content_mass"}:
        fields["content"] = {
            "minerals": draw(st.sampled_from([["copper"], ["neodymium"], "classified"])),
            "fallback_share": draw(st.sampled_from([None, 1.0, 0.4])),
        }
    if earlier and draw(st.booleans()):
        fields["stacking"]["excludes"] = [draw(st.sampled_from(earlier))]
    if earlier and basis in {"customs_value", "content_value", "non_content_value"} and draw(st.booleans()):
        fields["stacking"]["not_on"] = [draw(st.sampled_from(earlier)), "authority:section_232"]
    mode = draw(st.sampled_from(["rate", "rate", "rate", "floor", "quota"]))
    if mode == "floor" and basis == "customs_value":
        fields["rate"] = {
            "kind": "price_floor",
            "mechanism": draw(
                st.sampled_from(["variable_levy", "minimum_import_price", "price_undertaking"])
            ),
            "per": "product_kg",
            "reference_prices": [
                {"mineral": "neodymium", "price_usd_per_kg": 90.0, "source": "test"},
                {"stage": "oxide_salt_compound", "price_usd_per_kg": 40.0, "source": "test"},
                {
                    "mineral": "rare_earths",
                    "stage": "oxide_salt_compound",
                    "price_usd_per_kg": 110.0,
                    "source": "test",
                },
            ],
        }
    elif mode == "quota" and basis in {"customs_value", "quantity"}:
        allocations = draw(
            st.sampled_from(
                [
                    [],
                    [
                        {"name": "partners", "groups": ["us_fta", "eu27"], "share": 0.7},
                        {"name": "rest", "rest": True, "share": 0.3},
                    ],
                    [{"name": "china", "countries": ["CHN"], "volume": 500.0}],
                ]
            )
        )
        hard = draw(st.booleans())
        quota: dict[str, Any] = {
            "volume": draw(st.floats(min_value=1.0, max_value=20000.0)),
            "unit": draw(st.sampled_from(["kg", "usd"])),
            "period": draw(st.sampled_from(["year", "quarter", "window"])),
            "allocations": allocations,
            "in_quota": draw(rates(basis)),
            "hard_cap": hard,
        }
        if not hard:
            quota["over_quota"] = draw(rates(basis))
        fields["quota"] = quota
    else:
        fields["rate"] = draw(rates(basis))
    return fields


@st.composite
def measure_sets(draw: Any) -> MeasureSet:
    count = draw(st.integers(min_value=1, max_value=5))
    built: list[Any] = []
    for i in range(count):
        fields = draw(random_measure(i, [m.id for m in built]))
        built.append(Measure.model_validate({"title": "Generated measure", "citations": CITE, **fields}))
    try:
        return MeasureSet("random", "Random measures", "Generated by hypothesis.", tuple(built))
    except PolicyError:
        assume(False)  # a stacking cycle: an invalid set, which the loader rejects (tested elsewhere)
        raise


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ledger_rows(), measure_set=measure_sets(), redate=st.booleans())
def test_random_measures_agree_with_reference(
    rows: list[dict[str, Any]], measure_set: MeasureSet, redate: bool, helpers: Any
) -> None:
    assert_agree(helpers.ledger(rows), measure_set, helpers, as_of=date(2026, 3, 1) if redate else None)
