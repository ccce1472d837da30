"""Scenario trees: dated branches with probabilities, each putting a scenario in force with parameters that
may be fixed values or distributions (the user's judgement, not a forecast).

A path from the root to a leaf is one possible future. Along a path, each node that names a scenario puts it
in force from the node's date (its ``start_date`` parameter) until a later node on the same path replaces it.
The format is documented in docs/simulate.md.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from critmin.policy._yaml import read_yaml
from critmin.policy.errors import PolicyError, Problem
from critmin.policy.loader import shipped_scenario_paths, validation_problems

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


class Tree(_Strict):
    id: str
    title: str
    note: str = Field(description="what the probabilities are: e.g. 'illustrative judgement, not a forecast'")
    start: dt.date = Field(description="first day of the simulated year")
    months: int = Field(12, ge=1, le=120)
    root: Node


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
    from critmin.policy.loader import _scenario_path
    from critmin.policy.models import ScenarioFile

    problems: list[Problem] = []
    if node.scenario is not None:
        try:
            scenario_path = _scenario_path(node.scenario)
            spec = ScenarioFile.model_validate(read_yaml(scenario_path).data).scenario
            unknown = sorted(set(node.params) - set(spec.parameters))
            for name in unknown:
                problems.append(
                    Problem(
                        path,
                        doc.line_of((*loc, "params", name)),
                        f"{_dotted(loc)}.params.{name}",
                        f"scenario `{node.scenario}` has no parameter `{name}`.",
                        f"use one of: {', '.join(sorted(spec.parameters)) or 'none'}.",
                    )
                )
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
        if node.date is not None:
            params.setdefault("start_date", node.date)
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


def shipped_trees() -> list[str]:
    return sorted(p.stem for p in TREE_DIR.glob("*.yaml"))


def known_scenarios() -> list[str]:
    return sorted(shipped_scenario_paths())
