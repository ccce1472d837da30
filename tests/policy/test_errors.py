"""Bad measure files and parameters fail with the file, the line, the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from critmin.policy import loader
from critmin.policy.errors import PolicyError
from critmin.policy.models import Measure

GOOD = """\
measures:
  - id: my_tariff
    title: My tariff
    authority: section_232
    status: scenario
    citations:
      - {document: A source document, date: 2026-01-01, url: "https://example.org/a"}
    products: {hts: ["8505.11"]}
    rate: {kind: ad_valorem, rate: 25%}
"""


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, sets: list[str] | None = None) -> list[tuple[int | None, str, str, str]]:
    with pytest.raises(PolicyError) as info:
        loader.load_scenario(path, sets or [])
    return [(p.line, p.field, p.message, p.fix) for p in info.value.problems]


def test_good_file_loads(tmp_path: Path) -> None:
    measure_set = loader.load_scenario(write(tmp_path, GOOD))
    assert [m.id for m in measure_set.measures] == ["my_tariff"]
    assert measure_set.measures[0].products.hts == ["850511"]


def test_every_problem_is_listed_with_line_field_and_fix(tmp_path: Path) -> None:
    bad = GOOD.replace("rate: 25%", "rate: lots").replace('{hts: ["8505.11"]}', '{hts: ["85x"]}') + (
        "    origin: {countries: [China]}\n    stacking: {precedance: 3}\n"
    )
    found = problems(write(tmp_path, bad))
    by_field = {field: (line, message, fix) for line, field, message, fix in found}
    assert by_field["measures[0].rate.rate"][0] == 9  # the `rate:` line of the file
    assert "valid number" in by_field["measures[0].rate.rate"][1]
    assert "25%" in by_field["measures[0].rate.rate"][2]
    assert by_field["measures[0].products.hts[0]"][0] == 8
    assert "2 to 10 digits" in by_field["measures[0].products.hts[0]"][1]
    assert "CHN" in by_field["measures[0].origin.countries[0]"][1]
    line, _, fix = by_field["measures[0].stacking.precedance"]
    assert line == 11 and "Did you mean precedence" in fix
    rendered = str(PolicyError([]))  # the exception text itself names file and line
    assert "problem" in rendered


def test_message_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("status: scenario", "status: maybe"))
    with pytest.raises(PolicyError) as info:
        loader.load_scenario(path)
    text = str(info.value)
    assert f"{path}:5" in text and "`measures[0].status`" in text and "Fix:" in text


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    found = problems(write(tmp_path, GOOD + "  - id: [unclosed\n"))
    assert found[0][0] is not None and found[0][0] >= 10
    assert "not valid YAML" in found[0][2]


def test_incoherent_rate_and_basis(tmp_path: Path) -> None:
    text = GOOD.replace(
        "rate: {kind: ad_valorem, rate: 25%}", "basis: quantity\n    rate: {kind: ad_valorem, rate: 0.1}"
    )
    [(line, field, message, _)] = problems(write(tmp_path, text))
    assert field == "measures[0]" and "value basis" in message and line == 2


def test_unknown_stacking_reference_suggests_the_right_id(tmp_path: Path) -> None:
    text = GOOD + "    stacking: {excludes: [mfn_generl]}\n"
    [(_, field, message, fix)] = problems(write(tmp_path, text))
    assert field == "my_tariff.stacking.excludes" and "mfn_generl" in message and "mfn_general" in fix


def test_cycle_is_refused(tmp_path: Path) -> None:
    second = GOOD.replace("my_tariff", "other").replace("measures:\n", "")
    text = GOOD + "    stacking: {excludes: [other]}\n" + second + "    stacking: {excludes: [my_tariff]}\n"
    [(_, _, message, _)] = problems(write(tmp_path, text))
    assert "cycle" in message and "my_tariff" in message and "other" in message


SCENARIO = """\
scenario:
  id: mine
  title: My scenario
  description: A tariff at a rate I choose.
  parameters:
    rate: {value: 0.2, description: The rate I choose, example: true}
  measures:
    - id: my_scenario_tariff
      title: My scenario tariff
      authority: section_232
      status: scenario
      citations:
        - {document: A source document, date: 2026-01-01, url: "https://example.org/a"}
      products: {hts: ["2846"]}
      rate: {kind: ad_valorem, rate: "${rate}"}
"""


def test_bad_set_value_names_the_parameter_and_the_line_using_it(tmp_path: Path) -> None:
    path = write(tmp_path, SCENARIO, "s.yaml")
    [(line, field, message, fix)] = problems(path, ["rate=high"])
    assert line == 15 and field == "scenario.measures[0].rate.rate"
    assert "parameter `rate` (set with --set)" in message and "number" in fix


def test_unknown_set_name_lists_known_parameters(tmp_path: Path) -> None:
    path = write(tmp_path, SCENARIO, "s.yaml")
    [(_, field, message, fix)] = problems(path, ["rat=0.3"])
    assert field == "rat" and "no parameter 'rat'" in message and "did you mean rate" in fix


def test_malformed_set_item(tmp_path: Path) -> None:
    [(_, _, message, fix)] = problems(write(tmp_path, SCENARIO, "s.yaml"), ["rate"])
    assert "key=value" in message and "--set rate=0.25" in fix


def test_undeclared_parameter_reference(tmp_path: Path) -> None:
    path = write(tmp_path, SCENARIO.replace("${rate}", "${rte}"), "s.yaml")
    found = problems(path)
    assert any("`rte`" in message and line == 15 for line, _, message, _ in found)


def test_unknown_scenario_name_suggests_shipped_ones() -> None:
    with pytest.raises(PolicyError) as info:
        loader.load_scenario("status_qou")
    assert "status_quo" in str(info.value)


def test_model_rules() -> None:
    base = {
        "id": "x",
        "title": "Test",
        "authority": "other",
        "status": "scenario",
        "citations": [{"document": "Doc", "date": "2026-01-01", "url": "https://e.org"}],
        "products": {"all": True},
    }
    with pytest.raises(ValueError, match="exactly one of `rate` or `quota`"):
        Measure.model_validate(base)
    with pytest.raises(ValueError, match="refund_eligible applies only"):
        Measure.model_validate({**base, "refund_eligible": True, "rate": {"kind": "ad_valorem", "rate": 0.1}})
    with pytest.raises(ValueError, match="content"):
        Measure.model_validate(
            {**base, "basis": "content_value", "rate": {"kind": "ad_valorem", "rate": 0.1}}
        )
    with pytest.raises(ValueError, match="over_quota"):
        Measure.model_validate(
            {**base, "quota": {"volume": 1, "unit": "kg", "in_quota": {"kind": "ad_valorem", "rate": 0}}}
        )
    with pytest.raises(ValueError, match="add up to"):
        Measure.model_validate(
            {
                **base,
                "quota": {
                    "volume": 1,
                    "unit": "kg",
                    "hard_cap": True,
                    "in_quota": {"kind": "ad_valorem", "rate": 0},
                    "allocations": [
                        {"name": "a", "countries": ["CHN"], "share": 0.7},
                        {"name": "b", "rest": True, "share": 0.7},
                    ],
                },
            }
        )
    ok = Measure.model_validate({**base, "rate": {"kind": "ad_valorem", "rate": "7.5%"}})
    assert ok.rate is not None and ok.rate.kind == "ad_valorem" and ok.rate.rate == pytest.approx(0.075)


def test_a_key_written_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    text = GOOD.replace("    title: My tariff\n", "    title: My tariff\n    id: other_tariff\n")
    with pytest.raises(PolicyError) as info:
        loader.load_measure_file(write(tmp_path, text))
    message = str(info.value)
    assert "m.yaml:4" in message and "lines 2 and 4" in message and "`id`" in message


def test_a_new_rate_kind_field_error_names_the_line(tmp_path: Path) -> None:
    text = GOOD.replace(
        "rate: {kind: ad_valorem, rate: 25%}", "rate: {kind: top_up_to_cap, cap: 10%, rate: 5%}"
    )
    with pytest.raises(PolicyError) as info:
        loader.load_measure_file(write(tmp_path, text))
    assert "m.yaml:9" in str(info.value)
