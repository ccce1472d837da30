"""Where critmin finds things: shipped data, the raw-data tree and the default workspace."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REFDATA_DIR = PACKAGE_DIR / "refdata" / "data"
CURATED_DIR = PACKAGE_DIR / "refdata" / "curated"
SAMPLES_DIR = PACKAGE_DIR / "samples"


def refdata_dir() -> Path:
    """Directory of the built reference files; ``CRITMIN_REFDATA_DIR`` points elsewhere (tests, audits)."""
    override = os.environ.get("CRITMIN_REFDATA_DIR")
    return Path(override) if override else REFDATA_DIR


def raw_data_dir() -> Path:
    """The raw public data the reference files are built from.

    Defaults to ``../shared/data/raw`` beside the repository checkout; ``CRITMIN_RAW_DIR`` overrides.
    """
    override = os.environ.get("CRITMIN_RAW_DIR")
    if override:
        return Path(override)
    repo_root = PACKAGE_DIR.parent.parent
    return repo_root.parent / "shared" / "data" / "raw"


def oracles_dir() -> Path:
    """Published tables used to validate methods (tests only)."""
    return raw_data_dir().parent / "oracles"
