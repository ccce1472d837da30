"""File-level entry points behind ``critmin exposure`` and ``critmin explain``: read a ledger file with the
ledger ingester, resolve the scenario (with ``--set`` overrides), evaluate, and optionally record the run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl
import xlsxwriter

from critmin.duty.compare import Comparison, compare
from critmin.duty.engine import ContentCase, evaluate
from critmin.duty.explain import Explanation, explain_line
from critmin.duty.result import DutyResult
from critmin.duty.runs import LedgerSource, record_run
from critmin.policy.loader import MeasureSet, load_scenario
from critmin.spreadsheet import WORKBOOK_OPTIONS
from critmin.workspace import Workspace


@dataclass
class LoadedLedger:
    lines: pl.DataFrame
    source: LedgerSource
    rows_in: int
    rows_quarantined: int
    quarantined_by_code: dict[str, int] = field(default_factory=dict)
    """quarantined rows per quarantine code (``critmin.ledger.ingest.ImportResult.quarantined_by_code``)"""

    def line_counts(self) -> dict[str, object]:
        """Rows of the file and the ones left out, for the ``input_lines`` of an exposure's JSON."""
        return {
            "in_file": self.rows_in,
            "quarantined": self.rows_quarantined,
            "quarantined_by_code": dict(self.quarantined_by_code),
        }


def load_ledger(path: Path, *, mapping: Path | None = None, sheet: str | int | None = None) -> LoadedLedger:
    """Read, normalise and validate a ledger file (quarantined rows are counted, not evaluated)."""
    from critmin.ledger.ingest import ingest

    result = ingest(path, mapping=mapping, sheet=sheet)
    return LoadedLedger(
        result.lines,
        LedgerSource(str(path), result.source.sha256),
        result.rows_in,
        result.rows_quarantined,
        dict(result.quarantined_by_code),
    )


def import_id_for(ws: Workspace, sha256: str | None) -> int | None:
    if sha256 is None:
        return None
    from critmin.ledger.store import find_import

    found = find_import(ws, sha256)
    return int(found["import_id"]) if found else None


def exposure(
    ledger: LoadedLedger,
    scenario: str | Path | MeasureSet,
    *,
    as_of: date | None = None,
    sets: Sequence[str] = (),
    content: ContentCase = "central",
) -> DutyResult:
    measure_set = scenario if isinstance(scenario, MeasureSet) else load_scenario(scenario, list(sets))
    result = evaluate(ledger.lines, measure_set, as_of=as_of, content=content)
    result.input_lines = ledger.line_counts()
    return result


def exposure_compare(
    ledger: LoadedLedger,
    scenario_a: str | Path,
    scenario_b: str | Path,
    *,
    as_of: date | None = None,
    sets: Sequence[str] = (),
    content: ContentCase = "central",
) -> Comparison:
    """Both scenarios on the same lines; ``--set`` applies to each scenario that declares the parameter."""
    results = []
    for scenario in (scenario_a, scenario_b):
        measure_set = load_scenario(scenario, [s for s in sets if _declares(scenario, s)])
        results.append(evaluate(ledger.lines, measure_set, as_of=as_of, content=content))
    return compare(results[0], results[1])


def _declares(scenario: str | Path, item: str) -> bool:
    name = item.partition("=")[0].split(".")[0].strip()
    return name in load_scenario(scenario).parameters


def explain(
    ledger: LoadedLedger,
    scenario: str | Path,
    line_id: str,
    *,
    as_of: date | None = None,
    sets: Sequence[str] = (),
    content: ContentCase = "central",
) -> Explanation:
    measure_set = load_scenario(scenario, list(sets))
    return explain_line(ledger.lines, measure_set, line_id, as_of=as_of, content=content)


def record(ws: Workspace, result: DutyResult, ledger: LoadedLedger) -> int:
    source = LedgerSource(ledger.source.path, ledger.source.sha256, import_id_for(ws, ledger.source.sha256))
    return record_run(ws, result, source)


def write_xlsx(result: DutyResult, path: Path) -> None:
    """One workbook: totals, breakdowns, lines, components and the measures with their citations."""
    totals = result.totals()
    flat = {k: v for k, v in totals.items() if not isinstance(v, dict)}
    sheets: dict[str, pl.DataFrame] = {
        "Totals": pl.DataFrame({"item": list(flat), "value": [float(v) for v in flat.values()]}),
        "By measure": _pairs(totals["by_measure"], "measure_id", "duty"),
        "By mineral": _pairs(totals["by_mineral"], "mineral_id", "duty"),
        "By origin": _pairs(totals["by_origin"], "country_origin", "duty"),
        "Lines": result.lines,
        "Components": result.components.with_columns(pl.col(pl.Enum).cast(pl.String)),
        "Measures": pl.DataFrame(
            [
                {
                    k: (
                        v
                        if not isinstance(v, list)
                        else "; ".join(
                            f"{c['document']} ({c['date']}) {c['url']}"
                            if isinstance(c, dict) and "url" in c
                            else str(c)
                            for c in v
                        )
                    )
                    for k, v in m.items()
                }
                for m in result.measures_used()
            ]
        ),
    }
    # Ledger text is written as text: never a live formula or link in the user's spreadsheet program.
    with xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS) as workbook:
        for name, frame in sheets.items():
            frame.write_excel(workbook=workbook, worksheet=name, autofit=True)


def _pairs(mapping: dict[str, float], key: str, value: str) -> pl.DataFrame:
    return pl.DataFrame(
        {key: list(mapping), value: list(mapping.values())}, schema={key: pl.String, value: pl.Float64}
    )
