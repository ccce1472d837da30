"""Invalid trees fail with a message naming the file, the line and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from critmin.policy.errors import PolicyError
from critmin.policy.trees import Normal, Triangular, Uniform, load_tree, mean_of, quantile_of
from critmin.simulate.plan import plan

HEAD = """tree:
  id: t
  title: T
  note: example
  start: 2026-07-01
  root:
    id: r
    scenario: status_quo
    children:
"""


def _fails(kit: Any, tmp_path: Path, body: str) -> str:
    with pytest.raises(PolicyError) as info:
        load_tree(kit.write_tree(tmp_path, HEAD + body))
    return str(info.value)


def test_probabilities_must_add_up_to_one(kit: Any, tmp_path: Path) -> None:
    text = _fails(kit, tmp_path, "      - {id: a, probability: 0.6}\n      - {id: b, probability: 0.6}\n")
    assert "tree.yaml:7" in text and "add up to 1.2, not 1 (a=0.6, b=0.6)" in text  # the parent node


def test_a_rate_that_can_be_drawn_negative(kit: Any, tmp_path: Path) -> None:
    text = _fails(
        kit,
        tmp_path,
        """      - id: a
        probability: 1
        scenario: s232_tariff_non_partners
        params:
          rate: {dist: uniform, low: -0.1, high: 0.3}
""",
    )
    assert "tree.yaml:14" in text and "set by this branch" in text  # the line of `rate`
    assert "lowest values" in text and "greater than or equal to 0" in text and "parameter `rate`" in text
    text = _fails(
        kit,
        tmp_path,
        """      - id: a
        probability: 1
        scenario: s232_tariff_non_partners
        params:
          rate: {dist: normal, mean: 0.2, sd: 0.1}
""",
    )
    assert "lowest values" in text  # a normal without `low` is unbounded below


def test_unknown_measure_parameter_and_entry(kit: Any, tmp_path: Path) -> None:
    scenario = tmp_path / "mine.yaml"
    scenario.write_text("""scenario:
  id: mine
  title: My scenario
  description: In-force library plus a measure that does not exist.
  include: [s232_steel_derivatives_typo]
""")
    text = _fails(kit, tmp_path, f"      - {{id: a, probability: 1, scenario: {scenario}}}\n")
    assert "s232_steel_derivatives_typo" in text and "is not a measure of the in-force library" in text
    text = _fails(
        kit,
        tmp_path,
        """      - id: a
        probability: 1
        scenario: price_floor_partners_tariff_others
        params: {reference_prices.ndpr_oxid: 100}
""",
    )
    assert "has no entry `ndpr_oxid` in parameter `reference_prices`" in text


def test_a_distribution_the_simulation_cannot_vary(kit: Any, tmp_path: Path) -> None:
    tree = load_tree(
        kit.write_tree(
            tmp_path,
            HEAD
            + """      - id: a
        probability: 1
        scenario: s232_tariff_non_partners
        params:
          content_fallback_share: {dist: uniform, low: 0.5, high: 1.0}
""",
        )
    )
    with pytest.raises(PolicyError) as info:
        plan(tree)
    text = str(info.value)
    assert "sets `content.fallback_share` of measure `pcmdp_s232_derivatives_non_partners`" in text
    assert "dist: choice" in text


def test_uncertainty_block_is_validated(kit: Any, tmp_path: Path) -> None:
    body = HEAD.replace("  root:", "  uncertainty:\n    prices: {volatility: {lithium: -0.2}}\n  root:")
    with pytest.raises(PolicyError, match="volatility must be >= 0"):
        load_tree(kit.write_tree(tmp_path, body + "      - {id: a, probability: 1}\n"))


def test_means_and_quantiles_of_distributions() -> None:
    tri = Triangular(dist="triangular", low=0.1, mode=0.25, high=0.5)
    assert mean_of(tri) == pytest.approx(0.85 / 3)
    # below the mode: F(x) = (x - low)^2 / ((high - low)(mode - low)); F(0.2) = 0.01 / 0.06
    assert quantile_of(tri, 0.01 / 0.06) == pytest.approx(0.2)
    assert quantile_of(Uniform(dist="uniform", low=0.1, high=0.5), 0.05) == pytest.approx(0.12)
    clipped = Normal(dist="normal", mean=0.0, sd=1.0, low=0.0)
    # E[max(X, 0)] for a standard normal = 1 / sqrt(2 pi)
    assert mean_of(clipped) == pytest.approx(0.3989422804, rel=1e-9)
    assert quantile_of(clipped, 0.2) == 0.0 and quantile_of(clipped, 0.975) == pytest.approx(
        1.959964, rel=1e-6
    )
