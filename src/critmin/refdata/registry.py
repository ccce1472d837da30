"""The provenance registry of shipped reference data.

Each dataset is declared once, as a :class:`DatasetSpec` whose ``build`` turns the raw public files into a
Polars frame. ``scripts/build_refdata.py`` runs every spec, writes one Parquet file per dataset and a
``manifest.json`` recording where each came from, under which licence, its vintage, its checksum, row count
and columns. Loading and verifying only ever read the manifest and the Parquet files, so an installed
critmin needs no raw data at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from critmin.errors import ReferenceDataError, UnknownDatasetError
from critmin.paths import refdata_dir

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class DatasetSpec:
    """How to build one shipped dataset and what to say about where it came from."""

    id: str
    title: str
    source: str
    licence: str
    vintage: str
    retrieved: str
    description: str
    build: Callable[[Path], pl.DataFrame]
    raw_inputs: tuple[str, ...] = field(default_factory=tuple)
    """Paths relative to the raw-data directory (or ``curated:NAME`` for files in the package) whose
    checksums are recorded, so a rebuild can tell whether its inputs changed."""


@dataclass(frozen=True)
class DatasetRecord:
    """A built dataset as recorded in the manifest."""

    id: str
    title: str
    source: str
    licence: str
    vintage: str
    retrieved: str
    description: str
    file: str
    sha256: str
    rows: int
    columns: list[dict[str, str]]
    raw_inputs: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VerifyProblem:
    dataset_id: str
    file: Path
    message: str


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(directory: Path | None = None) -> list[DatasetRecord]:
    """The records of the manifest: one per shipped dataset, with its source, licence and vintage."""
    path = (directory or refdata_dir()) / MANIFEST_NAME
    if not path.exists():
        raise ReferenceDataError(
            f"No reference-data manifest at {path}. Build it with `make refdata` "
            "(needs ../shared/data/raw) or reinstall critmin."
        )
    entries = json.loads(path.read_text(encoding="utf-8"))
    return [DatasetRecord(**entry) for entry in entries]


def dataset_ids(directory: Path | None = None) -> list[str]:
    """The ids of the shipped datasets, as ``critmin data list`` shows them."""
    return [record.id for record in read_manifest(directory)]


def get_record(dataset_id: str, directory: Path | None = None) -> DatasetRecord:
    """The manifest record of one dataset; an unknown id raises with the known ones."""
    records = {record.id: record for record in read_manifest(directory)}
    if dataset_id not in records:
        known = ", ".join(sorted(records))
        raise UnknownDatasetError(f"Unknown dataset {dataset_id!r}. Known datasets: {known}.")
    return records[dataset_id]


@cache
def _load_cached(dataset_id: str, directory: Path) -> pl.DataFrame:
    record = get_record(dataset_id, directory)
    path = directory / record.file
    if not path.exists():
        raise ReferenceDataError(f"Reference file {path} for dataset {dataset_id!r} is missing.")
    return pl.read_parquet(path)


def load(dataset_id: str) -> pl.DataFrame:
    """A shipped dataset as a Polars frame (read once per process; frames are immutable)."""
    return _load_cached(dataset_id, refdata_dir())


def verify(directory: Path | None = None) -> list[VerifyProblem]:
    """Recompute every file's checksum and row count against the manifest."""
    base = directory or refdata_dir()
    problems: list[VerifyProblem] = []
    for record in read_manifest(base):
        path = base / record.file
        if not path.exists():
            problems.append(VerifyProblem(record.id, path, "file is missing"))
            continue
        actual = sha256_file(path)
        if actual != record.sha256:
            problems.append(
                VerifyProblem(
                    record.id,
                    path,
                    f"sha256 mismatch: manifest says {record.sha256}, file has {actual}. "
                    "The file was altered or corrupted; rebuild with `make refdata` or reinstall.",
                )
            )
            continue
        try:
            rows = pl.scan_parquet(path).select(pl.len()).collect().item()
        except Exception as exc:  # unreadable Parquet is itself a verification failure
            problems.append(VerifyProblem(record.id, path, f"unreadable Parquet: {exc}"))
            continue
        if rows != record.rows:
            problems.append(
                VerifyProblem(record.id, path, f"row count {rows} differs from manifest {record.rows}")
            )
    return problems


def _input_checksums(spec: DatasetSpec, raw_dir: Path, curated_dir: Path) -> list[dict[str, str]]:
    out = []
    for name in spec.raw_inputs:
        path = curated_dir / name.removeprefix("curated:") if name.startswith("curated:") else raw_dir / name
        out.append({"path": name, "sha256": sha256_file(path)})
    return out


def build_all(
    specs: Iterable[DatasetSpec],
    raw_dir: Path,
    out_dir: Path,
    curated_dir: Path,
    on_built: Callable[[DatasetRecord], None] | None = None,
    only: set[str] | None = None,
) -> list[DatasetRecord]:
    """Build datasets into ``out_dir`` and write the manifest. Deterministic for the same inputs.

    With ``only``, just those datasets are rebuilt and the other manifest entries are kept as they were.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    records: list[DatasetRecord] = []
    seen: set[str] = set()
    specs = list(specs)
    if only is not None:
        unknown = only - {spec.id for spec in specs}
        if unknown:
            raise ReferenceDataError(f"No builder declares dataset(s): {', '.join(sorted(unknown))}.")
        if (out_dir / MANIFEST_NAME).exists():
            records = [r for r in read_manifest(out_dir) if r.id not in only]
            seen = {r.id for r in records}
        specs = [spec for spec in specs if spec.id in only]
    for spec in specs:
        if spec.id in seen:
            raise ReferenceDataError(f"Dataset id {spec.id!r} is declared twice.")
        seen.add(spec.id)
        frame = spec.build(raw_dir)
        file_name = f"{spec.id}.parquet"
        path = out_dir / file_name
        frame.write_parquet(path, compression="zstd", statistics=False)
        record = DatasetRecord(
            id=spec.id,
            title=spec.title,
            source=spec.source,
            licence=spec.licence,
            vintage=spec.vintage,
            retrieved=spec.retrieved,
            description=spec.description,
            file=file_name,
            sha256=sha256_file(path),
            rows=frame.height,
            columns=[{"name": name, "dtype": str(dtype)} for name, dtype in frame.schema.items()],
            raw_inputs=_input_checksums(spec, raw_dir, curated_dir),
        )
        records.append(record)
        if on_built is not None:
            on_built(record)
    manifest = [record.as_dict() for record in sorted(records, key=lambda r: r.id)]
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    _load_cached.cache_clear()
    return records
