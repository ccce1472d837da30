"""The provenance registry: the manifest, checksums and the `critmin data` commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from critmin import refdata
from critmin.cli.app import app
from critmin.paths import REFDATA_DIR
from critmin.refdata.registry import MANIFEST_NAME, build_all, read_manifest, verify

runner = CliRunner()
REQUIRED_KEYS = {"id", "title", "source", "licence", "vintage", "sha256", "rows"}


def test_data_list_json_has_provenance_for_at_least_ten_datasets() -> None:
    result = runner.invoke(app, ["data", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    datasets = json.loads(result.stdout)
    assert len(datasets) >= 10
    for entry in datasets:
        assert entry.keys() >= REQUIRED_KEYS, entry["id"]
        assert len(entry["sha256"]) == 64
        assert entry["rows"] > 0
        assert entry["licence"] and entry["source"] and entry["vintage"]


def test_manifest_rows_match_files() -> None:
    for record in read_manifest():
        assert refdata.load(record.id).height == record.rows, record.id


def test_verify_passes_on_shipped_data() -> None:
    result = runner.invoke(app, ["data", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.stdout


def test_verify_fails_naming_the_altered_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "refdata"
    shutil.copytree(REFDATA_DIR, copy)
    victim = read_manifest(copy)[0]
    altered = pl.read_parquet(copy / victim.file).head(max(victim.rows - 1, 0))
    altered.write_parquet(copy / victim.file)
    monkeypatch.setenv("CRITMIN_REFDATA_DIR", str(copy))
    result = runner.invoke(app, ["data", "verify"])
    assert result.exit_code == 1
    assert victim.file in result.stderr
    assert "sha256 mismatch" in result.stderr


def test_verify_reports_a_missing_file(tmp_path: Path) -> None:
    copy = tmp_path / "refdata"
    shutil.copytree(REFDATA_DIR, copy)
    victim = read_manifest(copy)[-1]
    (copy / victim.file).unlink()
    problems = verify(copy)
    assert [p.dataset_id for p in problems] == [victim.id]
    assert "missing" in problems[0].message


def test_show_unknown_dataset_lists_known_ones() -> None:
    result = runner.invoke(app, ["data", "show", "no_such_dataset"])
    assert result.exit_code == 2
    assert "Known datasets" in result.stderr


def test_show_csv_head(tmp_path: Path) -> None:
    first = read_manifest()[0]
    result = runner.invoke(app, ["data", "show", first.id, "--head", "3", "--format", "csv"])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(result.stdout.encode())
    assert frame.height == min(3, first.rows)


def test_build_all_is_deterministic_and_rejects_duplicate_ids(tmp_path: Path) -> None:
    frame = pl.DataFrame({"b": [2, 1], "a": ["y", "x"]})
    spec = refdata.DatasetSpec(
        id="toy",
        title="Toy",
        source="test",
        licence="CC0",
        vintage="2026",
        retrieved="2026-11-28",
        description="a toy dataset",
        build=lambda _raw: frame,
    )
    first = build_all([spec], tmp_path, tmp_path / "a", tmp_path)
    second = build_all([spec], tmp_path, tmp_path / "b", tmp_path)
    assert first[0].sha256 == second[0].sha256
    assert json.loads((tmp_path / "a" / MANIFEST_NAME).read_text())[0]["rows"] == 2
    with pytest.raises(refdata.registry.ReferenceDataError, match="declared twice"):
        build_all([spec, spec], tmp_path, tmp_path / "c", tmp_path)
