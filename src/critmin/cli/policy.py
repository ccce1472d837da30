"""`critmin policy ...`: the shipped measure libraries and scenarios, and checks of your own files."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
import yaml

from critmin.cli.command import command_group
from critmin.cli.output import ColumnsOption, Format, TableView, WideOption, console, print_frame, print_json
from critmin.duty.mechanisms import MECHANISMS
from critmin.policy import loader
from critmin.policy.currency import law_currency

app = command_group("Trade measures as data: the in-force library, PCMDP scenarios, your own files.")

FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table, json or csv.")]


class ShowFormat(StrEnum):
    yaml = "yaml"
    json = "json"


def parse_date(value: str | None, option: str = "--as-of") -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{option} {value!r}: write the date as YYYY-MM-DD, e.g. 2026-09-01."
        ) from exc


@app.command("list")
def list_measures(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Only measures whose window contains this date.")
    ] = None,
    fmt: FormatOption = Format.table,
    columns: ColumnsOption = None,
    wide: WideOption = False,
) -> None:
    """The in-force library: every measure with its dated window, verification, citation and source.

    Example: critmin policy list --as-of 2026-03-01 --columns id,window,citation,source
    """
    day = parse_date(as_of)
    measure_set = loader.in_force_set(day)
    rows = [
        {
            "id": m.id,
            "window": m.window_text(),
            "verification": m.verification,
            "citation": m.citations[0].document,
            "headings": ", ".join(m.headings),
            "authority": m.authority.value,
            "status": m.status.value,
            "title": m.title,
            "source": m.citations[0].url,
        }
        for m in measure_set.measures
    ]
    frame = pl.DataFrame(rows) if rows else pl.DataFrame(schema={"id": pl.String})
    print_frame(frame, fmt, title=measure_set.title, keys=("id",), view=TableView.of(columns, wide))


def _measure_view(measure_id: str) -> dict[str, Any] | None:
    lib = loader.library()
    for m in lib.measures:
        if m.id == measure_id:
            where = lib.located[m.id]
            return {
                "defined_in": f"{where.file}:{where.line}",
                **m.model_dump(mode="json", exclude_defaults=True),
            }
    return None


@app.command("show")
def show(
    item: Annotated[str, typer.Argument(help="A measure id (see `policy list`) or a scenario id or file.")],
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="Override a scenario parameter: key=value.")
    ] = None,
    fmt: Annotated[ShowFormat, typer.Option("--format", "-f", help="yaml or json.")] = ShowFormat.yaml,
) -> None:
    """One measure, or one scenario with its parameters and the measures it adds.

    Example: critmin policy show s232_copper_content
    """
    view = _measure_view(item)
    if view is None:
        measure_set = loader.load_scenario(item, sets or [])
        lib_ids = loader.library_ids()
        view = {
            "scenario": measure_set.id,
            "title": measure_set.title,
            "description": measure_set.description,
            "parameters": {
                p.name: {
                    "value": p.value,
                    "description": p.description,
                    "example": p.example,
                    "overridden": p.overridden,
                    **({"source": p.source} if p.source else {}),
                }
                for p in measure_set.parameters.values()
            },
            "library_measures": sum(1 for m in measure_set.measures if m.id in lib_ids),
            "measures": [
                m.model_dump(mode="json", exclude_defaults=True)
                for m in measure_set.measures
                if m.id not in lib_ids
            ],
        }
    if fmt is ShowFormat.json:
        print_json(view)
    else:
        console.print(
            yaml.safe_dump(view, sort_keys=False, allow_unicode=True, width=110),
            highlight=False,
            markup=False,
        )


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="A measure file or scenario file (YAML).", show_default=False)],
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="Check with a parameter override: key=value.")
    ] = None,
) -> None:
    """Check a measure or scenario file: every problem with file, line, field and the fix; exit 2 if any.

    Example: critmin policy validate my_scenario.yaml --set rate=30%
    """
    measure_set = loader.load_scenario(file, sets or [])
    own = [
        m
        for m in measure_set.measures
        if measure_set.located.get(m.id, loader.Located("", None)).file == str(file)
    ]
    console.print(
        f"OK: {file} defines {len(own)} measure(s)"
        + (f" and {len(measure_set.parameters)} parameter(s)" if measure_set.parameters else "")
        + f"; the set has {len(measure_set.measures)} measures in all."
    )


@app.command("scenarios")
def scenarios(fmt: FormatOption = Format.table) -> None:
    """The shipped PCMDP scenarios, with their parameters (example values marked).

    Example: critmin policy scenarios --format json
    """
    items = loader.shipped_scenarios()
    if fmt is Format.json:
        print_json(
            [
                {
                    "id": s.id,
                    "title": s.title,
                    "description": s.description,
                    "measures": list(s.measure_ids),
                    "parameters": {
                        p.name: {"value": p.value, "example": p.example, "description": p.description}
                        for p in s.parameters.values()
                    },
                }
                for s in items
            ]
        )
        return
    rows = [
        {
            "id": s.id,
            "title": s.title,
            "measures": ", ".join(s.measure_ids) or "(in-force library only)",
            "parameters": ", ".join(
                f"{p.name}={p.value}{'*' if p.example else ''}" for p in s.parameters.values()
            ),
        }
        for s in items
    ]
    print_frame(pl.DataFrame(rows), fmt, title="PCMDP scenarios (* = example value)")


@app.command("currency")
def currency(fmt: FormatOption = Format.table) -> None:
    """How current the law in the library is: the day it was reviewed, the HTS revision its headings were
    verified against, the measures that are only reported, and what is unknown.

    Example: critmin policy currency --format json
    """
    law = law_currency()
    if fmt is Format.json:
        print_json(law.as_dict())
        return
    console.print(law.line(), highlight=False)
    rows = [
        {
            "id": m.id,
            "from": m.effective_from.isoformat() if m.effective_from else "",
            "headings": ", ".join(m.headings),
            "citation": m.citations[0].document,
        }
        for m in sorted(law.reported, key=lambda m: (m.effective_from or date.min, m.id), reverse=True)
    ]
    print_frame(
        pl.DataFrame(rows), fmt, title="In force, reported only (not yet checked against the legal text)"
    )
    print_frame(pl.DataFrame({"unknown": list(law.unknown)}), fmt, title="Unknown")


@app.command("mechanisms")
def mechanisms(fmt: FormatOption = Format.table) -> None:
    """The rate mechanisms a measure or scenario file can use, with their parameters and an example.

    Example: critmin policy mechanisms --format json
    """
    items = [m.describe() for m in MECHANISMS.values()]
    if fmt is Format.json:
        print_json(items)
        return
    rows = [
        {
            "kind": i["kind"],
            "summary": i["summary"],
            "parameters": "; ".join(f"{k}: {v}" for k, v in i["parameters"].items()),
            "example": i["example"],
        }
        for i in items
    ]
    print_frame(pl.DataFrame(rows), fmt, title="Rate mechanisms (rate.kind)")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="policy")
