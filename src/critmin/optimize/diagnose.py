"""Why a sourcing problem has no solution: the rules that jointly cause it, by product and period.

1. *Where and how far.* An elastic program gives every rule row a non-negative slack priced per unit (demand
   slack cheapest, so a conflict reads as "demand exceeds what the other rules allow" wherever buying less
   would resolve it). The least violation says how far each demand falls short and which (product, period)
   blocks are in conflict.
2. *Which rules.* For each block in conflict, an irreducible infeasible subset (IIS) of the block's rows:
   the rules in it cannot all hold, and dropping any one of them resolves the conflict. Rows of different
   products or periods never interact for feasibility (qualification can always be paid for, the CVaR
   rows always hold), so a cap on another product never appears.

   - When the block's LP relaxation is already infeasible, HiGHS computes the IIS (``Highs.getIis`` with the
     irreducible strategy).
   - Otherwise the conflict needs the yes/no choices (e.g. a minimum order above a period's demand), and a
     deletion filter finds it: drop a whole family, then single rules, re-solving each time, and keep a
     rule out whenever the rest stays infeasible. The same filter serves when highspy has no IIS.

Structural rows (definitions of auxiliary variables) are always kept and never named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import LinearConstraint, milp

from critmin.optimize.algebra import Floats, Index
from critmin.optimize.families import DFARS_WIDENING, Model

MAX_EXPLAINED = 5  # blocks explained rule by rule; more are counted
DEMAND_WEIGHT = 0.01  # elastic price of a unit of demand not met, against 1 for a unit of any other rule
SLACK_TOL = 1e-6

FAMILY_TEXT = {
    "demand": "demand",
    "capacity": "supplier capacities",
    "min_order": "minimum orders",
    "country_share": "the per-country share cap",
    "supplier_share": "the per-supplier share cap",
    "feoc_cap": "the FEOC share cap",
    "partner_floor": "the agreement-partner share floor",
    "dfars_ban": "the DFARS ban on covered countries",
    "switching": "the switching limit",
}


@dataclass
class Diagnosis:
    """What an infeasible problem's :class:`~critmin.optimize.solve.Solution` reports."""

    message: str
    conflicts: list[str] = field(default_factory=list)  # one line per rule in conflict, with a fix
    shortfall: dict[str, float] = field(default_factory=dict)  # rule label -> violation at least violation


@dataclass(frozen=True)
class _Block:
    """The rows of one (product, period) and the columns they touch, as a small stand-alone program."""

    rows: Index  # global row numbers
    a: sparse.csr_matrix
    lower: Floats
    upper: Floats
    lb: Floats
    ub: Floats
    integrality: Index
    structural: NDArray[np.bool_]
    family: NDArray[np.str_]


def diagnose(model: Model) -> Diagnosis:
    """Name, by product and period, the rules that jointly make the problem infeasible, and how to fix it."""
    slack = _elastic(model)
    if slack is None:
        return Diagnosis("no supply mix satisfies every constraint (the diagnosis itself failed to solve)")
    rows = model.rows
    product, period = rows.per_row("product"), rows.per_row("period")
    violated = np.flatnonzero(slack > SLACK_TOL)
    shortfall = {rows.label(int(r)): float(slack[r]) for r in violated}
    in_conflict = np.unique(
        np.column_stack([product[violated], period[violated]])[product[violated] >= 0], axis=0
    )
    if in_conflict.size == 0:
        return Diagnosis("no supply mix satisfies every constraint", shortfall=shortfall)
    sentences: list[str] = []
    conflicts: list[str] = []
    for p, t in in_conflict[:MAX_EXPLAINED]:  # one IIS per (product, period) in conflict
        block = _block(model, np.flatnonzero((product == p) & (period == t)))
        iis = _irreducible(block)
        sentence, lines = _explain(model, int(p), int(t), iis, slack)
        sentences.append(sentence)
        conflicts.extend(lines)
    extra = len(in_conflict) - MAX_EXPLAINED
    if extra > 0:
        sentences.append(
            f"{extra} more product-period(s) are infeasible as well; fix the ones above and run again."
        )
    return Diagnosis(" ".join(sentences), conflicts=conflicts, shortfall=shortfall)


def _elastic(model: Model) -> Floats | None:
    """Least total violation: each non-structural row may be relaxed by a priced slack; slack per row."""
    rows = model.rows
    a = model.matrix
    relaxable = np.flatnonzero(~rows.structural())
    k = relaxable.size
    pick = sparse.csr_matrix((np.ones(k), (relaxable, np.arange(k))), shape=(rows.count, k))
    # s+ relaxes an upper bound (row - s+ <= upper); s- relaxes a lower bound (row + s- >= lower)
    elastic = sparse.hstack([a, -pick, pick]).tocsr()
    weight = np.where(rows.family_names()[relaxable] == "demand", DEMAND_WEIGHT, 1.0)
    v = model.variables
    result = milp(
        np.concatenate([np.zeros(model.c.size), weight, weight]),
        constraints=LinearConstraint(elastic, rows.lower, rows.upper),
        integrality=np.concatenate([v.integrality, np.zeros(2 * k, dtype=np.int64)]),
        bounds=(
            np.concatenate([v.lower, np.zeros(2 * k)]),
            np.concatenate([v.upper, np.full(2 * k, np.inf)]),
        ),
    )
    if not result.success:
        return None
    slack = np.zeros(rows.count)
    slack[relaxable] = result.x[model.c.size : model.c.size + k] + result.x[model.c.size + k :]
    return slack


def _block(model: Model, block_rows: Index) -> _Block:
    a = model.matrix[block_rows]
    cols = np.unique(a.indices)
    v = model.variables
    return _Block(
        rows=block_rows,
        a=a[:, cols].tocsr(),
        lower=model.rows.lower[block_rows],
        upper=model.rows.upper[block_rows],
        lb=v.lower[cols],
        ub=v.upper[cols],
        integrality=v.integrality[cols],
        structural=model.rows.structural()[block_rows],
        family=model.rows.family_names()[block_rows],
    )


def _irreducible(block: _Block) -> Index:
    """Global rows of an IIS of the block, structural rows left out."""
    local = _highs_iis(block)
    if local is None:
        integer = bool(_feasible(block, np.ones(block.rows.size, dtype=bool), integer=False))
        local = _deletion_filter(block, integer=integer)
    rules = local[~block.structural[local]]
    return block.rows[np.sort(rules)]


def _highs_iis(block: _Block) -> Index | None:
    """HiGHS's IIS of the block's LP relaxation; None if the relaxation is feasible or highspy has no IIS."""
    try:
        import highspy

        # the core class: highspy.Highs installs callbacks in its constructor, which prints the HiGHS banner
        # to stdout before output can be switched off (and stdout may carry JSON)
        highs = highspy._Highs()  # type: ignore[attr-defined]
        strategy = int(highspy.IisStrategy.kIisStrategyIrreducible)
    except (ImportError, AttributeError):
        return None
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("iis_strategy", strategy)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = block.a.shape[1], block.a.shape[0]
    lp.col_cost_ = np.zeros(block.a.shape[1])
    lp.col_lower_, lp.col_upper_ = block.lb, block.ub
    lp.row_lower_, lp.row_upper_ = block.lower, block.upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = block.a.indptr
    lp.a_matrix_.index_ = block.a.indices
    lp.a_matrix_.value_ = block.a.data
    highs.passModel(lp)
    get_iis = getattr(highs, "getIis", None)  # older highspy releases do not expose the IIS
    if get_iis is None:
        return None
    status, iis = get_iis()
    if highs.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
        return None  # feasible relaxation: the conflict lies in the yes/no choices
    if status != highspy.HighsStatus.kOk or not iis.valid_ or len(iis.row_index_) == 0:
        return None
    return np.asarray(iis.row_index_, dtype=np.int64)


def _feasible(block: _Block, active: NDArray[np.bool_], *, integer: bool) -> bool:
    """Do the structural rows and the ``active`` rows of the block admit a solution?"""
    keep = active | block.structural
    if not keep.any():
        return True
    result = milp(
        np.zeros(block.a.shape[1]),
        constraints=LinearConstraint(block.a[keep], block.lower[keep], block.upper[keep]),
        integrality=block.integrality if integer else np.zeros_like(block.integrality),
        bounds=(block.lb, block.ub),
    )
    return bool(result.status == 0)


def _deletion_filter(block: _Block, *, integer: bool) -> Index:
    """Local rows of an IIS by deletion: a rule stays out whenever the rest is still infeasible."""
    active = ~block.structural
    for family in np.unique(block.family[active]):  # whole families first: a bystander family costs one solve
        trial = active & (block.family != family)
        if not _feasible(block, trial, integer=integer):
            active = trial
    for r in np.flatnonzero(active):  # then each remaining rule
        trial = active.copy()
        trial[r] = False
        if not _feasible(block, trial, integer=integer):
            active = trial
    return np.flatnonzero(active)


# --- the rules in user terms --------------------------------------------------------------------------------


class Rule(NamedTuple):
    """One rule in conflict, as a user reads it: what it says (kind, product, period, bound) and a fix."""

    text: str
    fix: str


def _explain(model: Model, p: int, t: int, iis: Index, slack: Floats) -> tuple[str, list[str]]:
    """One sentence for the (product, period) block and one line per rule in its IIS."""
    data, rows = model.data, model.rows
    product, period = str(data.products[p]), data.periods[t]
    causes = sorted({FAMILY_TEXT[rows.locate(int(r))[0].name] for r in iis} - {"demand"})
    need = float(data.demand[p, t])
    demand_rows = rows.families.get("demand")
    gap = 0.0
    if demand_rows is not None:
        local = np.flatnonzero((demand_rows.product == p) & (demand_rows.period == t))
        gap = float(slack[demand_rows.start + local].sum())
    if gap > SLACK_TOL:
        head = (
            f"demand for {product} in {period} ({need:,.0f}) exceeds what the other rules allow "
            f"({need - gap:,.0f}); short by {gap:,.0f}"
        )
        if causes:
            head += " after " + ", ".join(causes)
    else:
        head = f"the rules for {product} in {period} conflict: " + ", ".join(causes or ["demand"])
    rules = [_describe(model, int(r)) for r in iis]
    fixes = list(dict.fromkeys(rule.fix for rule in rules))
    sentence = (
        f"{head}. Rules in conflict: {'; '.join(rule.text for rule in rules)}. "
        f"Relaxing any one of them resolves this conflict: "
        + "; ".join(f"({i}) {fix}" for i, fix in enumerate(fixes, start=1))
        + "."
    )
    return sentence, [f"{rule.text} — fix: {rule.fix}" for rule in rules]


def _describe(model: Model, row: int) -> Rule:
    family, local = model.rows.locate(row)
    data = model.data
    p, t = int(family.product[local]), int(family.period[local])
    at = _At(str(data.products[p]), data.periods[t], float(data.demand[p, t]), str(family.subject[local]))
    return _DESCRIBE[family.name](model, row, at)


class _At(NamedTuple):
    """Where a rule applies: product, period, that period's demand and the row's subject."""

    product: str
    period: str
    demand: float
    subject: str


def _options_in(model: Model, row: int) -> list[int]:
    """Options whose purchases appear in ``row``."""
    cols = model.matrix[row].indices.astype(np.int64)
    v = model.variables
    o, _t = v.coords("x", cols[v.in_block("x", cols)])
    return sorted({int(i) for i in o})


def _option(model: Model, o: int) -> str:
    spec = model.data.problem.options[o]
    return f"{spec.id} (supplier {spec.supplier}, {spec.origin})"


def _counted(model: Model, row: int, none: str) -> str:
    """The options a group rule counts, or ``none`` when it counts none."""
    names = [_option(model, o) for o in _options_in(model, row)]
    return "options " + ", ".join(names) if names else none


def _demand(model: Model, row: int, at: _At) -> Rule:
    family, local = model.rows.locate(row)
    text = f"demand for {at.product} in {at.period}: {at.demand:,.0f} units"
    if np.isnan(model.data.penalty[family.product[local], family.period[local]]):
        text += " to be supplied in full (no shortfall_penalty)"
    return Rule(
        text,
        f"give the {at.product} demand in {at.period} a shortfall_penalty, a price per unit not supplied",
    )


def _capacity(model: Model, row: int, at: _At) -> Rule:
    o = _options_in(model, row)[0]
    text = (
        f"capacity of option {_option(model, o)} in {at.period}: at most {model.data.capacity[o]:,.0f} units"
    )
    return Rule(text, f"add capacity for {at.product} (raise this capacity or add an option)")


def _min_order(model: Model, row: int, at: _At) -> Rule:
    o = _options_in(model, row)[0]
    spec = model.data.problem.options[o]
    text = (
        f"minimum order of option {_option(model, o)} in {at.period}: at least {spec.min_order:,.0f} units "
        f"in any period it supplies"
    )
    return Rule(text, f"lower min_order of {spec.id}, or add an option for {at.product} without a minimum")


def _share_text(kind: str, at: _At, share: float, bound: str, source: str) -> str:
    return (
        f"{kind} for {at.product} in {at.period}: {bound} {share:.0%} of demand "
        f"({share * at.demand:,.0f} units) {source}"
    )


def _country_share(model: Model, row: int, at: _At) -> Rule:
    share = model.data.problem.constraints.max_share_country or 0.0
    origin = at.subject.split("/")[0]
    source = f"from {origin} ({_counted(model, row, 'no option')})"
    return Rule(
        _share_text("per-country share cap", at, share, "at most", source),
        "raise constraints.max_share_country",
    )


def _supplier_share(model: Model, row: int, at: _At) -> Rule:
    share = model.data.problem.constraints.max_share_supplier or 0.0
    supplier = at.subject.rsplit("/", 1)[0]
    source = f"from supplier {supplier} ({_counted(model, row, 'no option')})"
    return Rule(
        _share_text("per-supplier share cap", at, share, "at most", source),
        "raise constraints.max_share_supplier",
    )


def _feoc_cap(model: Model, row: int, at: _At) -> Rule:
    share = model.data.problem.constraints.max_share_feoc or 0.0
    source = f"from foreign entities of concern ({_counted(model, row, 'no option')})"
    return Rule(
        _share_text("FEOC share cap", at, share, "at most", source),
        f"raise constraints.max_share_feoc, or add capacity for {at.product} outside FEOC countries",
    )


def _partner_floor(model: Model, row: int, at: _At) -> Rule:
    constraints = model.data.problem.constraints
    share = constraints.min_share_partners or 0.0
    groups = ", ".join(constraints.partner_groups)
    source = f"from agreement partners ({_counted(model, row, f'no option is in {groups}')})"
    return Rule(
        _share_text("agreement-partner share floor", at, share, "at least", source),
        f"lower constraints.min_share_partners, or add capacity for {at.product} in a partner country",
    )


def _dfars_ban(model: Model, row: int, at: _At) -> Rule:
    o = _options_in(model, row)[0]
    text = (
        f"DFARS ban for {at.product} in {at.period}: nothing from option {_option(model, o)}, "
        f"a covered country from {DFARS_WIDENING:%d %b %Y}"
    )
    return Rule(
        text, f"add capacity for {at.product} outside covered countries, or set constraints.dfars_ban: false"
    )


def _switching(model: Model, row: int, at: _At) -> Rule:
    share = model.data.problem.constraints.max_switch_share or 0.0
    return Rule(
        _share_text("switching limit", at, share, "at most", "may move away from the current mix"),
        "raise constraints.max_switch_share, or change current_mix",
    )


_DESCRIBE: dict[str, Callable[[Model, int, _At], Rule]] = {
    "demand": _demand,
    "capacity": _capacity,
    "min_order": _min_order,
    "country_share": _country_share,
    "supplier_share": _supplier_share,
    "feoc_cap": _feoc_cap,
    "partner_floor": _partner_floor,
    "dfars_ban": _dfars_ban,
    "switching": _switching,
}
