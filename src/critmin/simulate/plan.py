"""From a scenario tree to what the simulation evaluates: paths, drawn parameters and engine variants.

Each path of the tree is a sequence of dated segments, each putting a scenario in force with parameters. A
parameter given as a number-valued distribution is *drawn*: the engine runs once with it at its mean, and
the simulation then varies it exactly, because of where it enters the measures (read from the scenario's
``${...}`` substitutions):

    an ad valorem or specific rate (also a quota's in/over-quota rate)  -> the amount is linear in it
    a reference price of a price floor                                  -> the floor is recomputed
    a quota volume or allocation share/volume                            -> the quota is refilled

A parameter given as a ``choice`` changes what applies (a mechanism, a list of partner groups, a date), so
each of its values is its own engine run ("variant") and every draw picks one. Anything else drawn from a
continuous distribution is refused with a message saying how to express it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from critmin.policy.errors import PolicyError, Problem
from critmin.policy.loader import MeasureSet, in_force_set, load_scenario
from critmin.policy.params import Override
from critmin.policy.trees import Choice, Tree, is_distribution, mean_of, paths
from critmin.simulate.cells import Horizon

MAX_VARIANTS_PER_PATH = 256


@dataclass(frozen=True)
class Param:
    """A parameter drawn from a continuous (or numeric) distribution at one node of the tree."""

    node_id: str
    key: str
    dist: Any
    reference: float  # the mean: the value the engine runs with

    @property
    def name(self) -> str:
        return f"{self.node_id}.{self.key}"


@dataclass(frozen=True)
class ChoiceParam:
    """A parameter whose values change which measures apply: one engine variant per value."""

    node_id: str
    key: str
    dist: Choice

    @property
    def name(self) -> str:
        return f"{self.node_id}.{self.key}"

    @property
    def weights(self) -> np.ndarray:
        n = len(self.dist.values)
        return np.asarray(
            self.dist.weights if self.dist.weights is not None else [1.0 / n] * n, dtype=np.float64
        )


@dataclass
class MeasureDrivers:
    """Which drawn parameter (by name) sets which number of one measure; absent = the measure's own value."""

    av: str | None = None
    sp: str | None = None
    floor: dict[int, str] = field(default_factory=dict)
    q_in_av: str | None = None
    q_in_sp: str | None = None
    q_over_av: str | None = None
    q_over_sp: str | None = None
    q_volume: str | None = None
    q_alloc: dict[int, str] = field(default_factory=dict)


@dataclass
class Variant:
    """One engine run: a scenario with concrete parameter values (drawn ones at their mean)."""

    index: int
    node_id: str | None  # None: the in-force library before the first dated branch
    scenario: str | None
    overrides: dict[str, Any]
    measure_set: MeasureSet
    drivers: dict[str, MeasureDrivers]
    start: dt.date
    end: dt.date | None = None  # latest end over the paths that use it (None = open)

    @property
    def label(self) -> str:
        name = self.scenario or "in_force"
        shown = {k: v for k, v in self.overrides.items() if k != "start_date"}
        return name + (f" {shown}" if shown else "")


@dataclass(frozen=True)
class SegmentPlan:
    node_id: str | None
    scenario: str | None
    start: dt.date
    end: dt.date | None
    choices: tuple[ChoiceParam, ...]
    variants: tuple[Variant, ...]  # one per combination of choice values (mixed radix, choices order)


@dataclass(frozen=True)
class PathPlan:
    index: int
    name: str
    leaf: str
    probability: float
    segments: tuple[SegmentPlan, ...]

    def combos(self) -> list[tuple[int, ...]]:
        return list(itertools.product(*[range(len(s.variants)) for s in self.segments]))


@dataclass
class TreePlan:
    tree: Tree
    horizon: Horizon
    paths: list[PathPlan]
    params: dict[str, Param]
    choices: dict[str, ChoiceParam]
    variants: list[Variant]
    keys: list[tuple[int, tuple[int, ...]]]  # (path, variant index per segment): one structure each
    notes: list[str] = field(default_factory=list)

    def key_index(self) -> dict[tuple[int, tuple[int, ...]], int]:
        return {k: i for i, k in enumerate(self.keys)}


def plan(tree: Tree) -> TreePlan:
    """Resolve every path's segments to engine variants and classify every drawn parameter."""
    horizon = Horizon.of(tree.start, tree.months)
    params: dict[str, Param] = {}
    choices: dict[str, ChoiceParam] = {}
    variants: list[Variant] = []
    cache: dict[tuple[str | None, int], Variant] = {}
    node_variants: dict[str | None, tuple[tuple[ChoiceParam, ...], list[dict[str, Any]]]] = {}
    notes: list[str] = []
    out: list[PathPlan] = []
    for p_index, tree_path in enumerate(paths(tree)):
        segments: list[SegmentPlan] = []
        first = tree_path.segments[0].start if tree_path.segments else None
        if first is None or first > horizon.start:
            if (None, 0) not in cache:
                cache[(None, 0)] = _in_force_variant(len(variants), horizon.start)
                variants.append(cache[(None, 0)])
            base = cache[(None, 0)]
            base.end = _later(base.end, first)
            segments.append(SegmentPlan(None, None, horizon.start, first, (), (base,)))
        for seg in tree_path.segments:
            if seg.node_id not in node_variants:
                node_variants[seg.node_id] = _node_settings(seg.node_id, seg.params, params, choices)
            node_choices, settings = node_variants[seg.node_id]
            chosen: list[Variant] = []
            for combo_index, values in enumerate(settings):
                if (seg.node_id, combo_index) not in cache:
                    made = _scenario_variant(
                        len(variants), seg.node_id, seg.scenario, values, seg.params, params, seg.start
                    )
                    cache[(seg.node_id, combo_index)] = made
                    variants.append(made)
                variant = cache[(seg.node_id, combo_index)]
                variant.start = min(variant.start, seg.start)
                variant.end = _later(variant.end, seg.end)
                chosen.append(variant)
            segments.append(
                SegmentPlan(seg.node_id, seg.scenario, seg.start, seg.end, node_choices, tuple(chosen))
            )
        path_plan = PathPlan(p_index, tree_path.name, tree_path.leaf, tree_path.probability, tuple(segments))
        if len(path_plan.combos()) > MAX_VARIANTS_PER_PATH:
            raise PolicyError.single(
                tree.id,
                f"path {path_plan.name}",
                f"its choice parameters combine into {len(path_plan.combos())} variants.",
                f"keep at most {MAX_VARIANTS_PER_PATH} combinations of choice values per path.",
            )
        out.append(path_plan)
    keys = [(p.index, combo) for p in out for combo in p.combos()]
    return TreePlan(tree, horizon, out, params, choices, variants, keys, notes)


def _later(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    if a is None or b is None:
        return None
    return max(a, b)


def _in_force_variant(index: int, start: dt.date) -> Variant:
    return Variant(index, None, None, {}, in_force_set(), {}, start, start)


def _node_settings(
    node_id: str, node_params: dict[str, Any], params: dict[str, Param], choices: dict[str, ChoiceParam]
) -> tuple[tuple[ChoiceParam, ...], list[dict[str, Any]]]:
    """The node's choice parameters and, per combination of their values, the engine's parameter values."""
    fixed: dict[str, Any] = {}
    node_choices: list[ChoiceParam] = []
    for key in sorted(node_params):
        value = node_params[key]
        if isinstance(value, Choice):
            choice = ChoiceParam(node_id, key, value)
            choices[choice.name] = choice
            node_choices.append(choice)
        elif is_distribution(value):
            param = Param(node_id, key, value, float(mean_of(value)))
            params[param.name] = param
            fixed[key] = param.reference
        else:
            fixed[key] = value
    settings = [
        fixed | {c.key: c.dist.values[i] for c, i in zip(node_choices, combo, strict=True)}
        for combo in itertools.product(*[range(len(c.dist.values)) for c in node_choices])
    ]
    return tuple(node_choices), settings


def _scenario_variant(
    index: int,
    node_id: str,
    scenario: str,
    values: dict[str, Any],
    node_params: dict[str, Any],
    params: dict[str, Param],
    start: dt.date,
) -> Variant:
    declared = load_scenario(scenario)
    if not declared.parameters:  # a measure file, or a scenario without parameters
        return Variant(index, node_id, scenario, {}, declared, {}, start, start)
    values = {k: v for k, v in values.items() if k != "start_date" or "start_date" in declared.parameters}
    overrides = [Override(k, v, f"{k}={v}") for k, v in values.items()]
    measure_set = load_scenario(scenario, overrides) if overrides else declared
    drawn = {
        key: params[f"{node_id}.{key}"]
        for key, value in node_params.items()
        if is_distribution(value) and not isinstance(value, Choice)
    }
    drivers: dict[str, MeasureDrivers] = {}
    problems: list[Problem] = []
    where = declared.sources[-1].path if declared.sources else scenario  # the scenario's own file
    for key, param in drawn.items():
        for binding in measure_set.bindings:
            if key.startswith(binding.parameter + "."):
                problems.append(
                    _problem(
                        where,
                        param,
                        f"the whole mapping `{binding.parameter}` is substituted at "
                        f"{_loc_text(binding.field)} of measure `{binding.measure_id}`, so one entry "
                        "cannot be drawn",
                    )
                )
                continue
            if binding.parameter != key:
                continue
            slot = _classify(binding.field)
            if slot is None:
                problems.append(
                    _problem(
                        where,
                        param,
                        f"it sets `{_loc_text(binding.field)}` of measure `{binding.measure_id}`, which the "
                        "simulation cannot vary continuously",
                    )
                )
                continue
            target = drivers.setdefault(binding.measure_id, MeasureDrivers())
            name, entry = slot
            if entry is None:
                setattr(target, name, param.name)
            else:
                getattr(target, name)[entry] = param.name
    if problems:
        raise PolicyError(problems)
    return Variant(index, node_id, scenario, values, measure_set, drivers, start, start)


def _classify(loc: tuple[int | str, ...]) -> tuple[str, int | None] | None:
    """Which number of a measure a substitution location sets (None: not a number the simulation varies)."""
    simple: dict[tuple[int | str, ...], str] = {
        ("rate", "rate"): "av",
        ("rate", "amount"): "sp",
        ("quota", "in_quota", "rate"): "q_in_av",
        ("quota", "in_quota", "amount"): "q_in_sp",
        ("quota", "over_quota", "rate"): "q_over_av",
        ("quota", "over_quota", "amount"): "q_over_sp",
        ("quota", "volume"): "q_volume",
    }
    if loc in simple:
        return simple[loc], None
    if len(loc) == 4 and loc[:2] == ("rate", "reference_prices") and loc[3] == "price_usd_per_kg":
        return "floor", int(loc[2])
    if len(loc) == 4 and loc[:2] == ("quota", "allocations") and loc[3] in {"share", "volume"}:
        return "q_alloc", int(loc[2])
    return None


def _loc_text(loc: tuple[int | str, ...]) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")


def _problem(where: str, param: Param, why: str) -> Problem:
    return Problem(
        where,
        None,
        f"{param.node_id}.params.{param.key}",
        f"parameter `{param.key}` of branch `{param.node_id}` is drawn from a distribution, but {why}.",
        "give it a fixed value, or a `{dist: choice, values: [...]}` so each value is its own case.",
    )
