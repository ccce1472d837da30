"""The one YAML reader: every kind of hand-edited file refuses a key written twice, keeps dates as text and
names the line of a syntax error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from critmin import yamlfile
from critmin.errors import InputError, ReferenceDataError
from critmin.invest import load_project
from critmin.ledger.headers import load_mapping
from critmin.monitor.errors import WatchlistError
from critmin.monitor.watchlist import load_watchlist
from critmin.optimize import load_problem
from critmin.policy.errors import PolicyError
from critmin.policy.loader import load_scenario
from critmin.refdata.builders._yaml import load_curated_yaml
from critmin.yamlfile import YamlFileError

TWICE = "name: first\nlevel: 1\nname: second\n"


def test_a_key_written_twice_names_both_lines() -> None:
    with pytest.raises(YamlFileError) as caught:
        yamlfile.load(TWICE, "f.yaml")
    assert (caught.value.line, caught.value.key) == (3, "name")
    assert "lines 1 and 3" in str(caught.value)
    assert str(caught.value).startswith("f.yaml:3: key `name`")


def test_a_key_twice_in_a_nested_mapping_and_merge_keys() -> None:
    with pytest.raises(YamlFileError, match="lines 3 and 4"):
        yamlfile.load("a:\n  - x: 1\n    y: 2\n    y: 3\n")
    # ``<<`` merges a mapping and may be written beside keys it overrides; that is not a duplicate.
    assert yamlfile.load("base: &b {r: 1}\nuse:\n  <<: *b\n  r: 2\n")["use"] == {"r": 2}


def test_dates_stay_text_for_the_owning_model_to_parse() -> None:
    data = yamlfile.load("start: 2026-07-24\nbad: 2026-13-01\n")
    assert data == {"start": "2026-07-24", "bad": "2026-13-01"}
    assert not isinstance(data["start"], dt.date)


def test_a_syntax_error_names_its_line() -> None:
    with pytest.raises(YamlFileError) as caught:
        yamlfile.load("a: 1\nb: [1, 2\nc: 3\n", "x.yaml")
    assert caught.value.line is not None and caught.value.line >= 2
    assert "not valid YAML" in str(caught.value)
    assert isinstance(caught.value, InputError) and caught.value.exit_code == 2


def test_line_of_walks_a_validation_location_back() -> None:
    doc = yamlfile.parse("measures:\n  - id: a\n  - id: b\n    rate: 2\n")
    assert doc.line_of(("measures", 1, "rate")) == 4
    assert doc.line_of(("measures", 1, "union-tag", "rate")) == 4


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.25", 0.25), ("40%", "40%"), ("2027-01-01", "2027-01-01"), ("", None), ("a: b: c", "a: b: c")],
)
def test_set_values_are_read_as_scalars(text: str, value: Any) -> None:
    assert yamlfile.scalar(text) == value


def test_a_missing_file_says_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(YamlFileError, match=r"does not exist.*project file"):
        yamlfile.read(tmp_path / "nope.yaml", "project file")
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    with pytest.raises(YamlFileError, match="not UTF-8"):
        yamlfile.read(tmp_path / "latin1.yaml")


LOADERS: dict[str, tuple[Callable[[Path], object], type[Exception]]] = {
    "scenario": (load_scenario, PolicyError),
    "project": (load_project, InputError),
    "sourcing problem": (load_problem, InputError),
    "watchlist": (load_watchlist, WatchlistError),
    "column mapping": (load_mapping, InputError),
    "curated file": (load_curated_yaml, ReferenceDataError),
}


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_every_file_kind_refuses_a_duplicate_key(kind: str, tmp_path: Path) -> None:
    loader, error = LOADERS[kind]
    path = tmp_path / "input.yaml"
    path.write_text(TWICE, encoding="utf-8")
    with pytest.raises(error, match=r"written twice.*lines 1 and 3"):
        loader(path)
