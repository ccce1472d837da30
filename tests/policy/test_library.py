"""The shipped libraries: every measure cited, the in-force facts right (rates, dates, statuses), scenarios
loadable with their parameters marked as examples."""

from __future__ import annotations

import re
from datetime import date

import polars as pl
import pytest

from critmin import refdata
from critmin.policy import loader
from critmin.policy.models import AdValorem, Measure


@pytest.fixture(scope="module")
def lib() -> dict[str, Measure]:
    return {m.id: m for m in loader.library().measures}


def test_every_measure_cites_a_dated_source(lib: dict[str, Measure]) -> None:
    for m in lib.values():
        assert m.citations, m.id
        for c in m.citations:
            assert c.url.startswith("http") and c.date.year >= 2018, m.id


def _rate(m: Measure) -> float:
    assert isinstance(m.rate, AdValorem)
    return m.rate.rate


@pytest.mark.parametrize(
    ("measure_id", "rate", "start", "status"),
    [
        ("s301_2024_increases_25pct", 0.25, date(2024, 9, 27), "in_force"),  # critical minerals 0 -> 25%
        ("s301_2024_ev_batteries", 0.25, date(2024, 9, 27), "in_force"),
        ("s301_2025_tungsten", 0.25, date(2025, 1, 1), "in_force"),
        ("s301_2025_polysilicon_wafers_semiconductors", 0.50, date(2025, 1, 1), "in_force"),
        ("s301_2026_graphite_magnets_batteries", 0.25, date(2026, 1, 1), "in_force"),
        ("s232_copper_content", 0.50, date(2025, 8, 1), "expired"),  # replaced by full value on 2026-04-06
        ("s232_steel_50pct", 0.50, date(2025, 6, 4), "expired"),
        ("s232_metals_annex_1a", 0.50, date(2026, 4, 6), "in_force"),  # Proc. 11021, 9903.82.02
        ("s232_metals_annex_1a_uk", 0.25, date(2026, 4, 6), "in_force"),
        ("s232_metals_annex_1b", 0.25, date(2026, 4, 6), "in_force"),
        ("s232_metals_annex_1b_uk", 0.15, date(2026, 4, 6), "in_force"),
        ("s301_brazil", 0.25, date(2026, 7, 22), "in_force"),
        ("s301_fl_12_5pct", 0.125, date(2026, 7, 24), "in_force"),
        ("s301_fl_canada_mexico", 0.10, date(2026, 7, 24), "in_force"),
        ("s122_surcharge", 0.10, date(2026, 2, 24), "expired"),
        ("s232_pcmdp_proclamation_11001", 0.0, date(2026, 1, 14), "in_force"),
    ],
)
def test_in_force_facts(
    lib: dict[str, Measure], measure_id: str, rate: float, start: date, status: str
) -> None:
    m = lib[measure_id]
    assert _rate(m) == pytest.approx(rate)
    assert m.effective_from == start
    assert m.status.value == status


def test_copper_is_charged_on_content_and_the_rest_at_zero(lib: dict[str, Measure]) -> None:
    assert lib["s232_copper_content"].basis.value == "content_value"
    assert lib["s232_copper_non_content"].basis.value == "non_content_value"
    assert _rate(lib["s232_copper_non_content"]) == 0.0


def test_section_122_window_and_stacking(lib: dict[str, Measure]) -> None:
    m = lib["s122_surcharge"]
    assert m.effective_until == date(2026, 7, 23)
    assert m.stacking.not_on == ["authority:section_232"]
    assert [r.dataset for r in m.products.exclude_hts_lists] == ["s122_exempt_products"]


def test_ieepa_is_invalidated_and_refundable_up_to_2026_02_23(lib: dict[str, Measure]) -> None:
    ieepa = [m for m in lib.values() if m.authority.value == "ieepa"]
    assert ieepa
    for m in ieepa:
        assert m.status.value == "invalidated" and m.refund_eligible
        assert m.effective_until is not None and m.effective_until <= date(2026, 2, 23)
    assert max(m.effective_until for m in ieepa if m.effective_until) == date(2026, 2, 23)


def test_named_hts_codes_are_on_the_right_lists() -> None:
    lists = refdata.load("s301_product_lists")

    def lists_of(code: str) -> set[str]:
        return set(lists.filter(pl.col("hts_prefix") == code).get_column("list").to_list())

    assert "biden_25_jan25" in lists_of("81019400")  # tungsten 8101.94
    assert {"biden_50_jan25"} <= lists_of("28046100") and {"biden_50_jan25"} <= lists_of("38180000")
    assert "biden_jan26" in lists_of("85051100")  # permanent magnets
    assert "biden_jan26" in lists_of("25041010")  # natural graphite
    copper = refdata.load("s232_products").filter(pl.col("list") == "copper")
    assert "74081160" in copper.get_column("hts_prefix").to_list()


def test_preference_partners_agree_with_the_program_codes_dataset(lib: dict[str, Measure]) -> None:
    codes = {r["code"]: set(r["partners"]) for r in refdata.load("hts_program_codes").iter_rows(named=True)}
    claim = lib["preference_fta"].claim
    assert claim is not None
    for code, eligible in claim.programmes.items():
        if eligible.countries:
            assert set(eligible.countries) == codes[code], code
        else:
            assert eligible.groups == ["usmca"] and codes[code] == {"CAN", "MEX"}


def test_in_force_set_filters_by_date() -> None:
    on = {m.id for m in loader.in_force_set(date(2026, 3, 1)).measures}
    assert "s122_surcharge" in on and "ieepa_reciprocal_baseline" not in on
    later = {m.id for m in loader.in_force_set(date(2026, 8, 1)).measures}
    assert "s122_surcharge" not in later


def test_shipped_scenarios_load_with_example_parameters() -> None:
    summaries = {s.id: s for s in loader.shipped_scenarios()}
    assert set(summaries) == {
        "status_quo",
        "s232_tariff_non_partners",
        "price_floor_partners_tariff_others",
        "minimum_import_price",
        "trq",
        "combined",
        "polysilicon_template_pcmdp",
    }
    for sid, summary in summaries.items():
        if sid != "status_quo":
            assert summary.measure_ids, sid
            assert all(p.example for p in summary.parameters.values()), sid


def test_set_overrides_a_parameter_and_marks_it() -> None:
    measure_set = loader.load_scenario("s232_tariff_non_partners", ["rate=30%", "start_date=2026-09-01"])
    processed = measure_set.by_id()["pcmdp_s232_processed_non_partners"]
    assert _rate(processed) == pytest.approx(0.30)
    assert processed.effective_from == date(2026, 9, 1)
    assert measure_set.parameters["rate"].overridden and not measure_set.parameters["rate"].example
    nested = loader.load_scenario("price_floor_partners_tariff_others", ["reference_prices.ndpr_oxide=95"])
    floor = nested.by_id()["pcmdp_floor_partners"].rate
    assert floor is not None and floor.kind == "price_floor"
    assert floor.reference_prices[0].price_usd_per_kg == 95.0


def test_scenario_measures_come_after_the_232_measures_they_do_not_stack_on() -> None:
    order = [m.id for m in loader.load_scenario("s232_tariff_non_partners").measures]
    assert order.index("s232_copper_content") < order.index("pcmdp_s232_derivatives_non_partners")
    assert order.index("pcmdp_s232_processed_non_partners") < order.index("s232_pcmdp_proclamation_11001")
    assert order.index("preference_fta") < order.index("mfn_general")  # excluder first


# Hosts of forums, bulletin boards, student papers, newsletters and aggregators: never a source of law.
DENIED_HOSTS = (
    "wenxuecity.com",
    "technews.iit.edu",
    "charm-retirement.com",
    "pubt.io",
    "legalclarity.org",
    "tradefacts.io",
    "janelgroup.com",
    "reddit.com",
    "quora.com",
    "medium.com",
    "substack.com",
    "info.expeditors.com",
    "creamermedia.co.za",
)
PRIMARY = re.compile(
    r"\d+ FR \d+|FR Doc|Federal Register|Proclamation|Executive Order|Executive order|CSMS|"
    r"Supreme Court|Public Law|Nos?\. \d|Harmonized Tariff Schedule|HTSUS|U\.S\. note|General Note|USTR|BIS ",
)


def _host(url: str) -> str:
    return url.split("//", 1)[1].split("/", 1)[0].lower()


def citation_problems(measure: Measure) -> list[str]:
    """Why a measure's citations would not be accepted (empty: fine)."""
    problems: list[str] = []
    for c in measure.citations:
        for url in (c.url, c.read_at):
            if url and any(_host(url) == h or _host(url).endswith("." + h) for h in DENIED_HOSTS):
                problems.append(
                    f"{measure.id}: {url} is a forum, newsletter or aggregator, not a source of law"
                )
    if not any(PRIMARY.search(c.document) for c in measure.citations):
        problems.append(
            f"{measure.id}: no citation names a primary document (FR, proclamation, CSMS, docket)"
        )
    return problems


def test_every_in_force_citation_names_a_primary_document(lib: dict[str, Measure]) -> None:
    problems = [p for m in lib.values() for p in citation_problems(m)]
    assert not problems, "\n".join(problems)


def test_the_citation_check_refuses_a_forum_and_a_nameless_document() -> None:
    forum = Measure.model_validate(
        {
            "id": "x",
            "title": "Forum-cited",
            "authority": "section_301",
            "status": "in_force",
            "citations": [
                {
                    "document": "USTR notice (83 FR 28710)",
                    "date": "2018-06-20",
                    "url": "https://zh.wenxuecity.com/bbs/1",
                }
            ],
            "products": {"all": True},
            "rate": {"kind": "ad_valorem", "rate": 0.25},
        }
    )
    nameless = forum.model_copy(
        update={
            "citations": [
                forum.citations[0].model_copy(update={"document": "a blog post", "url": "https://a.org/"})
            ]
        }
    )
    assert any("forum" in p for p in citation_problems(forum))
    assert any("primary document" in p for p in citation_problems(nameless))


def test_every_measure_after_2025_has_a_chapter_99_heading(lib: dict[str, Measure]) -> None:
    missing = [
        m.id
        for m in lib.values()
        if m.authority.value not in {"mfn", "preference"}
        and m.rate is not None
        and m.charges
        and (m.effective_from or date.min) >= date(2025, 1, 1)
        and not m.headings
    ]
    assert not missing, f"measures without a Chapter 99 heading: {missing}"


def test_headings_cited_before_rev6_exist_in_rev6_with_the_same_rate(lib: dict[str, Measure]) -> None:
    """Every heading cited by a measure in force on the day of HTS 2026 Rev. 6 (2026-04-23) is in the Rev. 6
    Chapter 99 text; a `verified` ad valorem measure charges the rate printed there. (Headings of measures
    that ended before it, such as the 2025 metal headings 9903.81.87 and 9903.85.02, left the schedule with
    them.)"""
    ch99 = refdata.load("hts_ch99_2026_rev6")
    printed = dict(
        zip(ch99.get_column("heading").to_list(), ch99.get_column("rate_pct").to_list(), strict=True)
    )
    absent: list[str] = []
    wrong: list[str] = []
    for m in lib.values():
        if not m.window_contains(date(2026, 4, 23)):
            continue
        for h in m.headings:
            if h not in printed:
                absent.append(f"{m.id}: {h}")
        if m.verification == "verified" and isinstance(m.rate, AdValorem) and m.headings:
            pct = printed.get(m.headings[0])
            if pct is None or abs(pct / 100 - m.rate.rate) > 1e-9:
                wrong.append(f"{m.id}: {m.headings[0]} prints {pct}%, the measure charges {m.rate.rate:.4%}")
    assert not absent, f"headings not in HTS 2026 Rev. 6: {absent}"
    assert not wrong, wrong
