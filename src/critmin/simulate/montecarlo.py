"""Monte Carlo of a scenario tree on a ledger: build the structure once, evaluate many draws.

:func:`build` places the ledger on the tree's horizon, runs the duty engine once per variant (scenario at
fixed parameter values; see :mod:`critmin.simulate.plan`) over the lines in the variant's window, sorts its
components into exact per-line structure (:mod:`critmin.simulate.structure`) and assembles one array
structure per path and combination of variants (:mod:`critmin.simulate.kernel`). Switched-supplier lines
are run in the same engine calls, so comparing suppliers costs no extra engine run.

:func:`simulate` draws branches, parameters, prices and volumes (:mod:`critmin.simulate.draws`) and
returns a :class:`critmin.simulate.results.SimulationResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from critmin.policy.trees import Tree, Uncertainty, load_tree
from critmin.simulate.cells import Annualise, Cells, Placed, cells, place
from critmin.simulate.draws import Draws, sample_draws, structure_keys
from critmin.simulate.kernel import Accumulator, Geometry, Structure, build_structure, evaluate_structure
from critmin.simulate.plan import TreePlan, plan
from critmin.simulate.prices import PriceModel, price_model
from critmin.simulate.structure import VariantRows, classify_minerals, variant_rows
from critmin.simulate.switching import Switch, candidates, check, switched_lines

AUTO_SWITCHES = 3

Progress = Callable[[int, int | None], None]
"""Called as a simulation advances with (steps done, steps in all); the same shape as the ledger ingest's."""


@dataclass
class Steps:
    """Counts a simulation's steps for a progress callback: one per duty-engine run (a tree variant, and
    once more per variant when supplier switches are valued), then the draws, then the summary. The engine
    runs take most of the time, so the count tracks the time well enough for an estimate of what is left."""

    report: Progress | None = None
    total: int | None = None
    done: int = 0

    def plan(self, total: int) -> None:
        self.total = total
        self._tell()

    def advance(self) -> None:
        self.done += 1
        self._tell()

    def _tell(self) -> None:
        if self.report is not None:
            self.report(self.done, self.total)


@dataclass
class Model:
    """One set of lines (the ledger, or the ledger with a supplier switched) ready for draws."""

    plan: TreePlan
    placed: Placed  # every placed line, including switched copies
    mask: np.ndarray  # which placed lines this model imports
    cells: Cells
    geo: Geometry
    structures: list[Structure]
    goods_gt: np.ndarray  # customs value per mineral-month (for landed cost)

    def run(self, draws: Draws, weights: np.ndarray | None = None) -> Outcome:
        keys = structure_keys(self.plan, draws)
        acc = Accumulator.empty(draws.n, self.geo)
        for k, structure in enumerate(self.structures):
            rows = np.flatnonzero(keys == k)
            if rows.size:
                evaluate_structure(structure, draws, rows, self.geo, acc, weights)
        goods = np.zeros(draws.n)
        block = max(1, 2_000_000 // max(self.geo.width, 1))
        for lo in range(0, draws.n, block):
            hi = min(draws.n, lo + block)
            price = draws.price[lo:hi].reshape(hi - lo, self.geo.width)
            volume = np.repeat(draws.volume[lo:hi], self.geo.months, axis=1)
            goods[lo:hi] = (price * volume) @ self.goods_gt
        return Outcome(acc, goods)


@dataclass
class Outcome:
    acc: Accumulator
    goods: np.ndarray

    @property
    def cost(self) -> np.ndarray:
        return self.acc.cube_total


@dataclass
class Built:
    """The base model, one model per supplier switch, and what they share."""

    tree: Tree
    plan: TreePlan
    uncertainty: Uncertainty
    prices: PriceModel
    base: Model
    switches: dict[Switch, Model] = field(default_factory=dict)
    rows: dict[int, VariantRows] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def build(
    tree: Tree | str | Path,
    ledger: pl.DataFrame,
    *,
    annualise: Annualise = "average",
    uncertainty: Uncertainty | None = None,
    switches: Sequence[Switch] | Literal["auto"] | None = None,
    steps: Steps | None = None,
) -> Built:
    """Everything that does not depend on the draws (the engine runs happen here).

    ``switches``: supplier switches to evaluate; ``"auto"`` picks up to three after a short pilot of the base
    model; None or empty evaluates none. ``steps`` counts the engine runs (see :class:`Steps`).
    """
    steps = steps or Steps()
    tree = tree if isinstance(tree, Tree) else load_tree(tree)
    tree_plan = plan(tree)
    placed = place(ledger, tree_plan.horizon, annualise)
    uncertainty = uncertainty or tree.uncertainty
    if isinstance(switches, Sequence) and not isinstance(switches, str):
        for switch in switches:
            check(placed.frame, switch)  # before the engine runs, so a typo fails fast
    minerals = classify_minerals(placed)
    runs = len(tree_plan.variants)
    steps.plan(runs * (2 if switches else 1) + 2)  # + the draws and the summary, counted by the caller
    rows = _variant_rows(placed, minerals, tree_plan, np.ones(placed.n, dtype=bool), steps)
    base = _model(tree_plan, placed, minerals, rows, np.ones(placed.n, dtype=bool), None)
    built = Built(
        tree,
        tree_plan,
        uncertainty,
        price_model(base.cells.minerals, uncertainty.prices),
        base,
        {},
        rows,
        [*tree_plan.notes, *placed.notes],
    )
    if switches == "auto":
        pilot = base.run(sample_draws(tree_plan, built.prices, uncertainty.volumes, 500, 0))
        chosen = candidates(placed.frame, _by_supplier(base, pilot), AUTO_SWITCHES)
        if chosen:
            built.notes.append(
                "Supplier switches chosen automatically: the suppliers with the highest expected cost, each "
                "moved to the supplier shipping most of the same HTS codes from another country."
            )
    else:
        chosen = list(dict.fromkeys(switches or []))
    if switches and not chosen:
        steps.plan(runs + 2)  # no switch worth valuing: no second round of engine runs
    if chosen:
        extended, copies, sources = _with_copies(placed, chosen)
        ext_minerals = pl.concat([minerals, minerals[sources]])
        wanted = np.zeros(extended.n, dtype=bool)
        wanted[placed.n :] = True
        added = _variant_rows(extended, ext_minerals, tree_plan, wanted, steps)
        merged = {k: _merge(rows[k], added[k]) for k in rows}
        for switch, copy_rows in copies.items():
            mask = _switch_mask(placed, extended, switch, copy_rows)
            built.switches[switch] = _model(
                tree_plan, extended, ext_minerals, merged, mask, base.cells.minerals
            )
    return built


def _merge(a: VariantRows, b: VariantRows) -> VariantRows:
    return VariantRows(
        a.variant,
        pl.concat([a.linear, b.linear]),
        pl.concat([a.floors, b.floors]),
        pl.concat([a.quotas, b.quotas]),
        a.quota_specs | b.quota_specs,
        a.missing,
        a.applied,
        a.datasets,
    )


def _by_supplier(model: Model, outcome: Outcome) -> dict[str, float]:
    table = model.cells.table.select(pl.col("supplier").fill_null("unknown"), "cell")
    sums = outcome.acc.cell_sum[table.get_column("cell").to_numpy()]
    frame = table.with_columns(pl.Series("v", sums)).group_by("supplier").agg(pl.col("v").sum())
    return dict(zip(frame.get_column("supplier").to_list(), frame.get_column("v").to_list(), strict=True))


def _with_copies(
    placed: Placed, switches: list[Switch]
) -> tuple[Placed, dict[Switch, np.ndarray], np.ndarray]:
    """The placed lines plus, per switch, copies of the source supplier's lines as bought from the target;
    also the placed row each copy was made from."""
    frames = [placed.frame]
    rows: dict[Switch, np.ndarray] = {}
    sources: list[np.ndarray] = []
    start = placed.n
    supplier = placed.frame.get_column("supplier")
    for switch in switches:
        copy = switched_lines(placed.frame, switch)
        rows[switch] = np.arange(start, start + copy.height)
        sources.append(np.flatnonzero((supplier == switch.source).fill_null(False).to_numpy()))
        frames.append(copy)
        start += copy.height
    frame = pl.concat(frames).with_columns(pl.int_range(pl.len()).cast(pl.String).alias("line_id"))
    return Placed(frame, placed.horizon, list(placed.notes)), rows, np.concatenate(sources)


def _switch_mask(placed: Placed, extended: Placed, switch: Switch, copies: np.ndarray) -> np.ndarray:
    mask = np.zeros(extended.n, dtype=bool)
    mask[: placed.n] = (placed.frame.get_column("supplier") != switch.source).fill_null(True).to_numpy()
    mask[copies] = True
    return mask


def _variant_rows(
    placed: Placed, minerals: pl.DataFrame, tree_plan: TreePlan, wanted: np.ndarray, steps: Steps
) -> dict[int, VariantRows]:
    dates = placed.dates()
    out: dict[int, VariantRows] = {}
    for variant in tree_plan.variants:
        inside = wanted & (dates >= _day(variant.start))
        if variant.end is not None:
            inside &= dates < _day(variant.end)
        out[variant.index] = variant_rows(placed, minerals, variant, np.flatnonzero(inside))
        steps.advance()
    return out


def _day(value: object) -> int:
    import datetime as dt

    assert isinstance(value, dt.date)
    return (value - dt.date(1970, 1, 1)).days


def _model(
    tree_plan: TreePlan,
    placed: Placed,
    minerals: pl.DataFrame,
    rows: dict[int, VariantRows],
    mask: np.ndarray,
    mineral_order: tuple[str, ...] | None,
) -> Model:
    grid = cells(placed, minerals, mask, mineral_order)
    dates = placed.dates()
    geo = Geometry(
        grid.line_cell,
        grid.line_mineral,
        grid.line_month,
        dates,
        len(grid.minerals),
        grid.months,
        grid.size,
        grid.cell_group(),
    )
    structures: list[Structure] = []
    for p_index, combo in tree_plan.keys:
        path = tree_plan.paths[p_index]
        parts: list[tuple[VariantRows, np.ndarray]] = []
        for segment, choice in zip(path.segments, combo, strict=True):
            window = mask & (dates >= _day(segment.start))
            if segment.end is not None:
                window &= dates < _day(segment.end)
            parts.append((rows[segment.variants[choice].index], window))
        structures.append(build_structure(parts, geo))
    customs = placed.frame.get_column("customs_value_usd").fill_null(0.0).to_numpy()
    line_gt = geo.line_mineral * geo.months + geo.line_month
    goods = np.bincount(line_gt[mask], weights=customs[mask], minlength=geo.width)
    return Model(tree_plan, placed, mask, grid, geo, structures, goods)
