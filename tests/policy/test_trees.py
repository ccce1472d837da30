"""Scenario trees: probabilities, dated segments, parameter draws and precise errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from critmin.policy.errors import PolicyError
from critmin.policy.trees import Triangular, Uniform, load_tree, paths, sample, shipped_trees


def test_shipped_tree_paths_and_probabilities() -> None:
    assert "pcmdp_window_2026" in shipped_trees()
    tree = load_tree("pcmdp_window_2026")
    assert "not a forecast" in tree.note
    by_name = {p.name: p for p in paths(tree)}
    assert sum(p.probability for p in by_name.values()) == pytest.approx(1.0)
    # tariff branch 0.25 x "then quota" 0.3 = 0.075
    then_quota = by_name["tariff_non_partners/tariff_then_quota"]
    assert then_quota.probability == pytest.approx(0.075)
    scenarios = [
        (s.scenario, s.start.isoformat(), s.end.isoformat() if s.end else None) for s in then_quota.segments
    ]
    assert scenarios == [
        ("status_quo", "2026-07-01", "2026-09-01"),
        ("s232_tariff_non_partners", "2026-09-01", "2027-01-01"),
        ("trq", "2027-01-01", None),
    ]
    # a branch's date becomes its scenario's start_date
    assert then_quota.segments[1].params["start_date"].isoformat() == "2026-09-01"


def test_after_window_tree_is_dated_from_today() -> None:
    assert {"pcmdp_after_window", "pcmdp_window_2026"} <= set(shipped_trees())  # the old tree stays (history)
    tree = load_tree("pcmdp_after_window")
    assert "not a forecast" in tree.note and "illustrative" in tree.note.lower()
    assert tree.start == date(2027, 1, 1) and tree.months == 12
    by_name = {p.name: p for p in paths(tree)}
    assert sum(p.probability for p in by_name.values()) == pytest.approx(1.0)
    # "no action": the law in force today for the whole simulated year
    no_action = by_name["no_action"]
    assert [(s.scenario, s.start, s.end) for s in no_action.segments] == [
        ("status_quo", date(2027, 1, 1), None)
    ]
    # the polysilicon template from 2027-04-01, its start_date set to the branch's date
    poly = by_name["polysilicon_template"]
    assert poly.probability == pytest.approx(0.2)
    assert [(s.scenario, s.start) for s in poly.segments] == [
        ("status_quo", date(2027, 1, 1)),
        ("polysilicon_template_pcmdp", date(2027, 4, 1)),
    ]
    assert poly.segments[1].params["start_date"] == date(2027, 4, 1)
    # every branch date lies in the future, in 2027; tariff 0.15 x "then quota" 0.3 = 0.045
    later = [s.start for p in by_name.values() for s in p.segments[1:]]
    assert later and all(d.year == 2027 and d > date(2026, 12, 5) for d in later)
    assert by_name["tariff_non_partners/tariff_then_quota"].probability == pytest.approx(0.045)
    scenarios = {s.scenario for p in by_name.values() for s in p.segments}
    assert {"status_quo", "polysilicon_template_pcmdp", "s232_tariff_non_partners", "trq"} <= scenarios


def test_a_scenario_on_an_undated_node_starts_with_the_tree(tmp_path: Path) -> None:
    # the root names a scenario but no date: it is in force from the tree's start, so its start_date must be
    # the tree's start, not the scenario's own default (2027-01-01), or the segment would pay nothing
    path = write(tmp_path, HEAD.replace("scenario: status_quo", "scenario: s232_tariff_non_partners"))
    (only,) = paths(load_tree(path))
    assert only.segments[0].start == date(2026, 7, 1)
    assert only.segments[0].params["start_date"] == date(2026, 7, 1)


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tree.yaml"
    path.write_text(body)
    return path


HEAD = (
    "tree:\n  id: t\n  title: T\n  note: example\n  start: 2026-07-01\n"
    "  root:\n    id: r\n    scenario: status_quo\n"
)


def test_children_must_sum_to_one_and_error_names_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEAD + "    children:\n      - {id: a, probability: 0.5}\n      - {id: b, probability: 0.4}\n",
    )
    with pytest.raises(PolicyError) as info:
        load_tree(path)
    text = str(info.value)
    assert "tree.yaml:7" in text and "add up to 0.9, not 1" in text


def test_unknown_scenario_and_parameter_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEAD
        + "    children:\n      - id: a\n        probability: 1\n        scenario: s232_tariff_non_partners\n"
        + "        params: {rte: 0.3}\n",
    )
    with pytest.raises(PolicyError, match="has no parameter `rte`"):
        load_tree(path)
    path = write(tmp_path, HEAD.replace("status_quo", "status_qou"))
    with pytest.raises(PolicyError, match="Did you mean status_quo"):
        load_tree(path)


def test_parameter_draws_are_seeded_and_in_range() -> None:
    rng = np.random.default_rng(5)
    draws = sample(Uniform(dist="uniform", low=0.1, high=0.5), rng, 10_000)
    assert draws.min() >= 0.1 and draws.max() <= 0.5 and draws.mean() == pytest.approx(0.3, abs=0.005)
    tri = sample(
        Triangular(dist="triangular", low=0.1, mode=0.25, high=0.5), np.random.default_rng(1), 20_000
    )
    # mean of a triangular distribution = (low + mode + high) / 3 = 0.85 / 3
    assert tri.mean() == pytest.approx(0.85 / 3, abs=0.003)
    again = sample(Uniform(dist="uniform", low=0.1, high=0.5), np.random.default_rng(5), 10_000)
    np.testing.assert_array_equal(draws, again)
    assert list(sample(0.25, rng, 3)) == [0.25, 0.25, 0.25]
