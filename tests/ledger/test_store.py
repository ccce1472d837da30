"""The workspace rules: idempotent by checksum, atomic, new versions replace, fixed rows fill the gap."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from critmin.ledger import store
from critmin.ledger.samples import LEDGER_SAMPLES_DIR
from critmin.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace.open(tmp_path / "ws.duckdb", create=True)
    yield workspace  # type: ignore[misc]
    workspace.close()


def _counts(ws: Workspace) -> dict[str, int]:
    frame = ws.table_counts()
    return dict(zip(frame.get_column("table"), frame.get_column("rows"), strict=True))


def test_import_and_reimport_is_idempotent(ws: Workspace, tmp_path: Path) -> None:
    path = shutil.copy(LEDGER_SAMPLES_DIR / "defense_prime_ledger.csv", tmp_path / "ledger.csv")
    first = store.import_ledger(ws, Path(path))
    assert first.status == "imported"
    assert first.result is not None and first.result.rows_loaded == 192
    counts = _counts(ws)
    assert counts["ledger_lines"] == 192
    assert counts["ledger_quarantine"] == 9  # nine rows, one problem each
    assert counts["ledger_warnings"] == 1
    assert store.classification(ws).get_column("line_id").n_unique() == 192
    # classification is stored once per HTS code, not per line
    assert 0 < counts["ledger_code_classification"] < 192
    again = store.import_ledger(ws, Path(path))
    assert again.status == "unchanged" and again.import_id == first.import_id
    assert _counts(ws) == counts
    assert store.imports(ws).height == 1


def test_new_version_of_a_file_replaces_the_old_lines(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    shutil.copy(LEDGER_SAMPLES_DIR / "defense_prime_ledger.csv", path)
    store.import_ledger(ws, path)
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(text[:101]), encoding="utf-8")  # header + first 100 rows
    second = store.import_ledger(ws, path)
    assert second.status == "imported"
    assert second.lines_replaced == 192
    lines = store.lines(ws)
    assert lines.height == second.result.rows_loaded  # type: ignore[union-attr]
    assert lines.get_column("source_row").max() <= 101  # type: ignore[operator]
    assert store.imports(ws).height == 2
    # going back to the first version restores it: its checksum is known but no longer current
    shutil.copy(LEDGER_SAMPLES_DIR / "defense_prime_ledger.csv", path)
    third = store.import_ledger(ws, path)
    assert third.status == "imported"
    assert store.lines(ws).height == 192
    assert store.imports(ws).get_column("import_id").to_list() == [2, 3]


def test_fix_quarantine_and_reimport(ws: Workspace, tmp_path: Path) -> None:
    path = Path(shutil.copy(LEDGER_SAMPLES_DIR / "magnet_maker_ledger.csv", tmp_path / "ledger.csv"))
    store.import_ledger(ws, path)
    out = tmp_path / "fix-me.csv"
    assert store.export_quarantine(store.quarantine(ws), out) == 9
    fixes = pl.read_csv(out, infer_schema=False)
    assert fixes.columns[:2] == ["source_file", "source_row"]
    assert fixes.columns[-1] == "critmin_issues"
    fixed = fixes.filter(pl.col("Origin") == "Chinaa").with_columns(pl.lit("China").alias("Origin"))
    assert fixed.height == 1
    fixed.drop("critmin_issues").write_csv(tmp_path / "fixed.csv")
    before = store.lines(ws).height
    result = store.import_ledger(ws, tmp_path / "fixed.csv")
    assert result.result is not None and result.result.rows_loaded == 1
    lines = store.lines(ws)
    assert lines.height == before + 1
    row = fixed.item(0, "source_row")
    fixed_line = lines.filter((pl.col("source_file") == "ledger.csv") & (pl.col("source_row") == int(row)))
    assert fixed_line.item(0, "country_origin") == "CHN"
    assert store.quarantine(ws).height == 8  # that row's entry is resolved
    assert int(row) not in store.quarantine(ws).get_column("source_row").to_list()
    # importing the fixed file again changes nothing; the line id is the original row's
    assert store.import_ledger(ws, tmp_path / "fixed.csv").status == "unchanged"
    assert fixed_line.item(0, "line_id") == fixes.filter(pl.col("source_row") == row).item(0, "Line ID")


def test_interrupted_import_leaves_the_previous_state(ws: Workspace, tmp_path: Path) -> None:
    first = Path(shutil.copy(LEDGER_SAMPLES_DIR / "battery_maker_ledger.csv", tmp_path / "a.csv"))
    store.import_ledger(ws, first)
    counts = _counts(ws)
    second = Path(shutil.copy(LEDGER_SAMPLES_DIR / "defense_prime_ledger.csv", tmp_path / "b.csv"))
    seen: list[int] = []

    def stop_after_first_chunk(done: int, total: int | None) -> None:
        seen.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.import_ledger(ws, second, chunk_rows=50, progress=stop_after_first_chunk)
    assert seen == [50]
    assert _counts(ws) == counts
    assert store.imports(ws).get_column("source_file").to_list() == ["a.csv"]
    # and the same file imports cleanly afterwards
    assert store.import_ledger(ws, second).status == "imported"


def test_bom_content_reaches_ledger_lines(ws: Workspace) -> None:
    store.import_ledger(ws, LEDGER_SAMPLES_DIR / "battery_maker_ledger.csv")
    stored = store.import_bom(ws, LEDGER_SAMPLES_DIR / "battery_maker_bom.csv")
    assert stored.status == "imported" and stored.lines_updated > 0
    content = store.content(ws)
    lines = store.lines(ws)
    cells = lines.filter(pl.col("part_number") == "CELL-PRISM-NMC").head(1)
    line_id, pieces = cells.item(0, "line_id"), cells.item(0, "quantity")
    nickel = content.filter((pl.col("line_id") == line_id) & (pl.col("mineral_id") == "nickel")).row(
        0, named=True
    )
    # one cell: 0.52 kg NMC811 x 0.4827 kg Ni/kg = 0.251004 kg nickel
    assert nickel["content_kg_central"] == pytest.approx(pieces * 0.52 * 0.4827)
    assert nickel["content_source"] == "bom"
    assert store.import_bom(ws, LEDGER_SAMPLES_DIR / "battery_maker_bom.csv").status == "unchanged"
    with ws.connect() as con:
        chain = con.execute(
            "SELECT path, item_hts, kg_central FROM bom_explosion WHERE mineral_id = 'cobalt' ORDER BY path"
        ).fetchall()
    # 8 modules x 12 cells x 0.52 kg CAM x 0.0606 kg Co/kg = 3.025152 kg cobalt per pack
    assert chain == [
        ("PACK-96S > MOD-12S > CELL-PRISM-NMC > CAM-NMC811 > cobalt", "3824993910", pytest.approx(3.025152))
    ]
