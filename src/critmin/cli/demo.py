"""`critmin demo`: the main job end to end on the shipped sample data."""

from __future__ import annotations

from pathlib import Path

import typer

from critmin.cli.output import console, frame_table
from critmin.demo import run_demo


def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", "-o", help="directory for the demo's outputs"),
) -> None:
    """Run the main job on the shipped sample defense prime and write the outputs to --out."""
    with console.status("running the demo") as status:
        result = run_demo(out, progress=lambda step: status.update(step))
    for title, frame in result.tables:
        console.print(frame_table(frame, title))
    console.print(f"\n[bold green]Demo written to {result.out_dir.resolve()}[/bold green]")
    for path in result.files:
        console.print(f"  {path}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
