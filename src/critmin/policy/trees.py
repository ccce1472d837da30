"""Scenario trees: dated branches with probabilities, each putting a scenario in force with parameters that
may be fixed values or distributions (the user's judgement, not a forecast).

A path from the root to a leaf is one possible future. Along a path, each node that names a scenario puts it
in force from the node's date (the tree's ``start`` for a node without a date), passed to the scenario as its
``start_date`` parameter when it declares one, until a later node on the same path replaces it.
The format is documented in docs/simulate.md.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from critmin.policy._yaml import read_yaml
from critmin.policy.errors import PolicyError, Problem
from critmin.policy.loader import load_scenario, shipped_scenario_paths, validation_problems
from critmin.policy.params import Override

TREE_DIR = Path(__file__).resolve().parent / "library" / "trees"
PROBABILITY_TOLERANCE = 1e-9


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Uniform(_Strict):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("uniform needs low <= high")
        return self


class Triangular(_Strict):
    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("triangular needs low <= mode <= high and low < high")
        return self


class Normal(_Strict):
    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)
    low: float | None = Field(None, description="truncate draws below this value")
    high: float | None = Field(None, description="truncate draws above this value")


class Lognormal(_Strict):
    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(gt=0, description="standard deviation of the log")


class Choice(_Strict):
    dist: Literal["choice"]
    values: list[Any] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None and (
            len(self.weights) != len(self.values) or abs(sum(self.weights) - 1) > 1e-6
        ):
            raise ValueError("choice weights need one weight per value, adding up to 1")
        return self


Distribution = Annotated[Uniform | Triangular | Normal | Lognormal | Choice, Field(discriminator="dist")]


class Node(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str | None = None
    probability: float = Field(1.0, gt=0, le=1, description="probability given the parent")
    date: dt.date | None = Field(None, description="when this branch's scenario takes effect")
    scenario: str | None = Field(
        None, description="shipped scenario id or path; null = parent's stays in force"
    )
    params: dict[str, Distribution | Any] = Field(default_factory=dict)
    children: list[Node] = Field(default_factory=list)

    @model_validator(mode="after")
    def _children_sum_to_one(self) -> Node:
        if self.children:
            total = math.fsum(c.probability for c in self.children)
            if abs(total - 1) > PROBABILITY_TOLERANCE:
                names = ", ".join(f"{c.id}={c.probability:g}" for c in self.children)
                raise ValueError(f"the children's probabilities add up to {total:.6g}, not 1 ({names})")
            ids = [c.id for c in self.children]
            if len(set(ids)) != len(ids):
                raise ValueError("sibling branch ids must be unique")
        return self


class PriceUncertainty(_Strict):
    """How market prices move in a simulation (lognormal, monthly steps, correlated across minerals)."""

    scale: float = Field(1.0, ge=0, description="multiplies every volatility; 0 holds prices at the ledger's")
    volatility: dict[str, float] = Field(
        default_factory=dict, description="annual sd of the log price by mineral id, replacing the estimate"
    )
    default_volatility: float | None = Field(
        None, ge=0, description="for minerals without a shipped price series; null = median of the estimates"
    )
    correlation: Literal["data"] | float = Field(
        "data", description="'data' = shrunk sample correlation of shipped prices; a number = every pair"
    )
    shrinkage: float = Field(0.5, ge=0, le=1, description="weight on the pairwise sample correlations")

    @model_validator(mode="after")
    def _ranges(self) -> PriceUncertainty:
        bad = sorted(k for k, v in self.volatility.items() if v < 0)
        if bad:
            raise ValueError(f"volatility must be >= 0 (check {', '.join(bad)})")
        if not isinstance(self.correlation, str) and not -1 < self.correlation < 1:
            raise ValueError("a single correlation must lie strictly between -1 and 1")
        return self


class VolumeUncertainty(_Strict):
    """How import volumes differ from the ledger's year: lognormal, one level per mineral, mean 1."""

    sd: float = Field(0.1, ge=0, description="sd of the log volume of each mineral")
    common_share: float = Field(
        0.5, ge=0, le=1, description="share of the log variance common to all minerals"
    )


class Uncertainty(_Strict):
    prices: PriceUncertainty = Field(default_factory=PriceUncertainty)
    volumes: VolumeUncertainty = Field(default_factory=VolumeUncertainty)


class Tree(_Strict):
    id: str
    title: str
    note: str = Field(description="what the probabilities are: e.g. 'illustrative judgement, not a forecast'")
    start: dt.date = Field(description="first day of the simulated year")
    months: int = Field(12, ge=1, le=120)
    root: Node
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)


class TreeFile(_Strict):
    tree: Tree


@dataclass(frozen=True)
class Segment:
    """A scenario in force on a path from ``start`` (inclusive) to ``end`` (exclusive; None = horizon)."""

    node_id: str
    scenario: str
    start: dt.date
    end: dt.date | None
    params: dict[str, Any]


@dataclass(frozen=True)
class TreePath:
    leaf: str
    node_ids: tuple[str, ...]
    probability: float
    segments: tuple[Segment, ...]

    @property
    def name(self) -> str:
        return "/".join(self.node_ids[1:]) or self.node_ids[0]


def load_tree(name_or_path: str | Path) -> Tree:
    """A shipped tree by id, or a tree file by path; scenarios and parameter names are checked."""
    shipped = {p.stem: p for p in sorted(TREE_DIR.glob("*.yaml"))}
    path = shipped.get(str(name_or_path), Path(name_or_path))
    if not path.exists():
        raise PolicyError.single(
            str(name_or_path),
            "tree",
            "is neither a shipped tree nor a file.",
            f"shipped trees: {', '.join(shipped) or 'none'}; or give the path of a tree file.",
        )
    doc = read_yaml(path)
    try:
        tree = TreeFile.model_validate(doc.data).tree
    except ValidationError as exc:
        raise PolicyError(validation_problems(exc, doc)) from None
    problems = list(_check_scenarios(tree.root, ("tree", "root"), str(path), doc))
    if problems:
        raise PolicyError(problems)
    return tree


def _check_scenarios(node: Node, loc: tuple[int | str, ...], path: str, doc: Any) -> list[Problem]:
    problems: list[Problem] = []
    if node.scenario is not None:
        try:
            declared = load_scenario(node.scenario).parameters
            for name in sorted(node.params):
                message = _parameter_problem(name, {k: p.value for k, p in declared.items()})
                if message is None:
                    continue
                problems.append(
                    Problem(
                        path,
                        doc.line_of((*loc, "params", name)),
                        f"{_dotted(loc)}.params.{name}",
                        f"scenario `{node.scenario}` {message}.",
                        f"use one of: {', '.join(sorted(declared)) or 'none'}"
                        " (dotted names reach into a mapping, e.g. reference_prices.ndpr_oxide).",
                    )
                )
            if not problems:
                problems.extend(_check_values(node, loc, path, doc, set(declared)))
        except PolicyError as exc:
            problems.extend(
                Problem(path, doc.line_of((*loc, "scenario")), f"{_dotted(loc)}.scenario", p.message, p.fix)
                for p in exc.problems
            )
    elif node.params:
        problems.append(
            Problem(
                path,
                doc.line_of((*loc, "params")),
                f"{_dotted(loc)}.params",
                "sets parameters but names no scenario.",
                "add `scenario:` to this branch or drop `params`.",
            )
        )
    for i, child in enumerate(node.children):
        problems.extend(_check_scenarios(child, (*loc, "children", i), path, doc))
    return problems


def _check_values(
    node: Node, loc: tuple[int | str, ...], path: str, doc: Any, declared: set[str]
) -> list[Problem]:
    """Load the branch's scenario with its parameters at their central values, at the low and high ends of
    every distribution, and at each value of every choice, so that a rate that can be drawn negative, a
    share above 1 or a scenario naming an unknown measure is reported here, against the tree's line."""
    assert node.scenario is not None
    central = {k: (v.values[0] if isinstance(v, Choice) else mean_of(v)) for k, v in node.params.items()}
    if node.date is not None and "start_date" in declared:
        central.setdefault("start_date", node.date)
    settings: list[tuple[str, dict[str, Any]]] = [("central", central)]
    numeric = {k: v for k, v in node.params.items() if is_distribution(v) and not isinstance(v, Choice)}
    if numeric:
        for label, q in (("lowest", 0.0), ("highest", 1.0)):
            settings.append((label, central | {k: _extreme(v, q) for k, v in numeric.items()}))
    for k, v in node.params.items():
        if isinstance(v, Choice):
            settings += [(f"choice {k}={value!r}", central | {k: value}) for value in v.values[1:]]
    problems: list[Problem] = []
    where = (*loc, "params") if node.params else (*loc, "scenario")
    for label, values in settings:
        try:
            load_scenario(node.scenario, [Override(k, v, f"{k}={v}") for k, v in values.items()])
        except PolicyError as exc:
            problems.extend(
                Problem(
                    path,
                    doc.line_of(where),
                    f"{_dotted(loc)}.params" if node.params else f"{_dotted(loc)}.scenario",
                    f"with the branch's parameters at their {label} values, scenario `{node.scenario}` is "
                    f"invalid: {p.message.replace('(set with --set)', '(set by this branch)')}",
                    p.fix,
                )
                for p in exc.problems
            )
            break
    return problems


def _extreme(value: Any, q: float) -> float:
    """The lowest (q=0) or highest (q=1) value draws can take; an unbounded tail gives +-inf."""
    if isinstance(value, Lognormal):
        return value.median * math.exp(value.sigma * (-8.0 if q == 0 else 8.0))
    if isinstance(value, Normal):
        bound = value.low if q == 0 else value.high
        return bound if bound is not None else (-math.inf if q == 0 else math.inf)
    return quantile_of(value, q)


def _parameter_problem(name: str, defaults: dict[str, Any]) -> str | None:
    """Why a tree parameter name does not fit the scenario (None when it does).

    A dotted name such as ``reference_prices.ndpr_oxide`` sets one entry of a mapping-valued parameter, so a
    tree can put a distribution on one floor level while the others keep the scenario's values.
    """
    head, *rest = name.split(".")
    if head not in defaults:
        return f"has no parameter `{head}`"
    target = defaults[head]
    for i, step in enumerate(rest):
        if not isinstance(target, dict) or step not in target:
            reached = ".".join([head, *rest[:i]])
            return f"has no entry `{step}` in parameter `{reached}`"
        target = target[step]
    return None


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")


def paths(tree: Tree) -> list[TreePath]:
    """Every root-to-leaf path with its probability and the scenarios in force along it, in date order."""
    out: list[TreePath] = []

    def walk(node: Node, trail: tuple[Node, ...], probability: float) -> None:
        trail = (*trail, node)
        probability *= node.probability
        if node.children:
            for child in node.children:
                walk(child, trail, probability)
            return
        out.append(TreePath(node.id, tuple(n.id for n in trail), probability, _segments(trail, tree.start)))

    walk(tree.root, (), 1.0)
    return out


def _segments(trail: tuple[Node, ...], start: dt.date) -> tuple[Segment, ...]:
    named = [n for n in trail if n.scenario is not None]
    segs: list[Segment] = []
    for i, node in enumerate(named):
        assert node.scenario is not None
        begins = node.date or start
        ends = (named[i + 1].date or start) if i + 1 < len(named) else None
        params = dict(node.params)
        # the scenario's measures start with its segment: the node's date, or the tree's start for a node
        # without one (a scenario's own default start_date would otherwise leave the segment's first days,
        # or all of them, under the law in force)
        params.setdefault("start_date", begins)
        segs.append(Segment(node.id, node.scenario, begins, ends, params))
    return tuple(segs)


def is_distribution(value: Any) -> bool:
    return isinstance(value, Uniform | Triangular | Normal | Lognormal | Choice)


def sample(value: Any, rng: np.random.Generator, n: int) -> NDArray[Any]:
    """``n`` draws of a parameter (a fixed value is repeated)."""
    if isinstance(value, Uniform):
        return rng.uniform(value.low, value.high, n)
    if isinstance(value, Triangular):
        return rng.triangular(value.low, value.mode, value.high, n)
    if isinstance(value, Normal):
        draws = rng.normal(value.mean, value.sd, n)
        return np.clip(
            draws,
            value.low if value.low is not None else -np.inf,
            value.high if value.high is not None else np.inf,
        )
    if isinstance(value, Lognormal):
        return value.median * np.exp(rng.normal(0.0, value.sigma, n))
    if isinstance(value, Choice):
        index = rng.choice(len(value.values), size=n, p=value.weights)
        return np.asarray(value.values, dtype=object)[index]
    return np.full(n, value, dtype=object if not isinstance(value, int | float) else np.float64)


def mean_of(value: Any) -> Any:
    """The mean of a numeric distribution (a fixed value is its own mean; a choice gives its weighted mean
    when its values are numbers). Used as the central value of a parameter."""
    if isinstance(value, Uniform):
        return (value.low + value.high) / 2
    if isinstance(value, Triangular):
        return (value.low + value.mode + value.high) / 3
    if isinstance(value, Normal):
        return _clipped_normal_mean(value)
    if isinstance(value, Lognormal):
        return value.median * math.exp(value.sigma**2 / 2)
    if isinstance(value, Choice):
        weights = value.weights or [1 / len(value.values)] * len(value.values)
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value.values):
            return math.fsum(w * float(v) for w, v in zip(weights, value.values, strict=True))
        raise ValueError("a choice between non-numeric values has no mean")
    return value


def quantile_of(value: Any, q: float) -> float:
    """The ``q`` quantile of a numeric distribution (draws of ``sample`` have this quantile function)."""
    if isinstance(value, Uniform):
        return value.low + q * (value.high - value.low)
    if isinstance(value, Triangular):
        low, mode, high = value.low, value.mode, value.high
        if q < (mode - low) / (high - low):
            return low + math.sqrt(q * (high - low) * (mode - low))
        return high - math.sqrt((1 - q) * (high - low) * (high - mode))
    if isinstance(value, Normal):
        x = _normal_inverse(q, value.mean, value.sd)
        low = value.low if value.low is not None else -math.inf
        high = value.high if value.high is not None else math.inf
        return min(max(x, low), high)
    if isinstance(value, Lognormal):
        return value.median * math.exp(value.sigma * _normal_inverse(q, 0.0, 1.0))
    if isinstance(value, Choice):
        raise ValueError("a choice has no continuous quantile; evaluate each value instead")
    return float(value)


def _normal_inverse(q: float, mean: float, sd: float) -> float:
    if q <= 0:
        return -math.inf
    if q >= 1:
        return math.inf
    return NormalDist(mean, sd).inv_cdf(q)


def _clipped_normal_mean(value: Normal) -> float:
    """E[clip(X, low, high)] for X ~ N(mean, sd): ``sample`` clips draws, so the bounds carry mass."""
    unit = NormalDist()
    mu, sd = value.mean, value.sd
    a = -math.inf if value.low is None else (value.low - mu) / sd
    b = math.inf if value.high is None else (value.high - mu) / sd
    cdf_a = 0.0 if math.isinf(a) else unit.cdf(a)
    cdf_b = 1.0 if math.isinf(b) else unit.cdf(b)
    pdf_a = 0.0 if math.isinf(a) else unit.pdf(a)
    pdf_b = 0.0 if math.isinf(b) else unit.pdf(b)
    total = mu * (cdf_b - cdf_a) + sd * (pdf_a - pdf_b)
    if value.low is not None:
        total += value.low * cdf_a
    if value.high is not None:
        total += value.high * (1 - cdf_b)
    return total


def shipped_trees() -> list[str]:
    return sorted(p.stem for p in TREE_DIR.glob("*.yaml"))


def known_scenarios() -> list[str]:
    return sorted(shipped_scenario_paths())
