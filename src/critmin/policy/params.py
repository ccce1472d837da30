"""Scenario parameters: ``--set key=value`` overrides and ``${name}`` substitution into measures.

A scenario file declares its parameters once (value, description, whether the value is only an example);
measures refer to them as ``"${rate}"`` (the whole value, keeping its type) or inside a longer string.
Overrides are parsed as YAML scalars, so ``--set rate=0.3``, ``--set rate=30%``,
``--set start_date=2026-09-01`` and ``--set partner_groups=[usmca,us_fta]`` all do what they look like.
Dotted keys reach into mapping-valued parameters: ``--set reference_prices.neodymium=95``.

A rate parameter (unit "fraction of ...") takes ``40%`` or ``0.40``; a bare number above 1 is refused,
because ``--set rate=40`` almost always means 40% and would otherwise price a 4,000% tariff.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from critmin import yamlfile
from critmin.policy.errors import PolicyError, Problem
from critmin.policy.models import is_date_unit

_WHOLE = re.compile(r"^\$\{([a-z][a-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}$")
_INNER = re.compile(r"\$\{([a-z][a-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


@dataclass(frozen=True)
class Override:
    """One ``--set`` item, parsed."""

    key: str
    value: Any
    text: str  # as typed, for messages

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[0]


def parse_overrides(items: Iterable[str], source: str = "--set") -> list[Override]:
    """Parse ``key=value`` strings; a malformed item names itself and shows the expected form."""
    parsed: list[Override] = []
    problems: list[Problem] = []
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+)*", key):
            problems.append(
                Problem(
                    source,
                    None,
                    key or item,
                    f"{item!r} is not of the form key=value.",
                    "write e.g. --set rate=0.25 or --set start_date=2026-09-01.",
                )
            )
            continue
        parsed.append(Override(key, yamlfile.scalar(raw), item))
    if problems:
        raise PolicyError(problems)
    return parsed


def is_rate(name: str, unit: str | None) -> bool:
    """Whether a parameter is a share of a value (a tariff rate): its unit says "fraction of ...", or, in a
    file that gives no unit, its name ends in "rate"."""
    if unit:
        return unit.strip().lower().startswith("fraction")
    return name == "rate" or name.endswith("_rate")


def rate_override(override: Override) -> Override | Problem:
    """``override`` with its value as a fraction: ``40%`` -> 0.4, ``0.4`` stays; a bare number above 1 is a
    Problem that shows both ways of writing what was probably meant."""
    value = override.value
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return Override(override.key, float(value.strip()[:-1]) / 100.0, override.text)
        except ValueError:
            return _rate_problem(override, f"{value!r} is not a percentage.", "write e.g. 40% or 0.40.")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 1:
        return _rate_problem(
            override,
            f"{value:g} would be {value * 100:,g}%: a bare number for a rate is a fraction of 1.",
            f"write {value:g}% or {_fraction_text(value / 100)}.",
        )
    return override


def date_override(override: Override) -> Override | Problem:
    """``override`` with its value as a date; anything but an ISO date is a Problem showing the form."""
    try:
        return Override(override.key, date.fromisoformat(str(override.value).strip()), override.text)
    except ValueError:
        return Problem(
            "--set",
            None,
            override.key,
            f"{override.text!r}: {override.value!r} is not a date.",
            "write the date as YYYY-MM-DD, e.g. 2027-03-01.",
        )


def _rate_problem(override: Override, message: str, fix: str) -> Problem:
    return Problem("--set", None, override.key, f"{override.text!r}: {message}", fix)


def _fraction_text(value: float) -> str:
    return f"{value:.2f}" if round(value, 2) == value else f"{value:g}"


def apply_overrides(
    parameters: Mapping[str, Any],
    overrides: Iterable[Override],
    scenario_path: str,
    units: Mapping[str, str | None] | None = None,
) -> tuple[dict[str, Any], set[str]]:
    """New parameter values with overrides applied, and the names that were overridden.

    ``units`` (parameter name -> unit) marks the rate parameters, whose values are read as fractions
    (see :func:`rate_override`).
    """
    values = {name: _copy(value) for name, value in parameters.items()}
    touched: set[str] = set()
    problems: list[Problem] = []
    for override in overrides:
        if units is not None and override.name in units and is_rate(override.name, units[override.name]):
            checked = rate_override(override)
            if isinstance(checked, Problem):
                problems.append(checked)
                continue
            override = checked
        if units is not None and override.name in units and is_date_unit(units[override.name]):
            dated = date_override(override)
            if isinstance(dated, Problem):
                problems.append(dated)
                continue
            override = dated
        if override.name not in values:
            close = difflib.get_close_matches(override.name, list(values), n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            known = ", ".join(sorted(values)) or "(this scenario has no parameters)"
            problems.append(
                Problem(
                    "--set",
                    None,
                    override.key,
                    f"scenario {scenario_path} has no parameter {override.name!r}.",
                    f"{hint}known parameters: {known}.",
                )
            )
            continue
        path = override.key.split(".")[1:]
        if not path:
            values[override.name] = override.value
        else:
            target = values[override.name]
            for step in path[:-1]:
                if not isinstance(target, dict) or step not in target:
                    problems.append(_bad_path(override, scenario_path))
                    break
                target = target[step]
            else:
                if not isinstance(target, dict):
                    problems.append(_bad_path(override, scenario_path))
                    continue
                target[path[-1]] = override.value
        touched.add(override.name)
    if problems:
        raise PolicyError(problems)
    return values, touched


def _bad_path(override: Override, scenario_path: str) -> Problem:
    return Problem(
        "--set",
        None,
        override.key,
        f"parameter {override.name!r} of {scenario_path} has no entry at {override.key!r}.",
        f"use `critmin policy show` on the scenario to see the structure of {override.name!r}.",
    )


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _lookup(values: Mapping[str, Any], ref: str) -> tuple[bool, Any]:
    head, *rest = ref.split(".")
    if head not in values:
        return False, None
    target = values[head]
    for step in rest:
        if not isinstance(target, dict) or step not in target:
            return False, None
        target = target[step]
    return True, target


@dataclass(frozen=True)
class Substitution:
    """Which parameter filled which location of a measure, so a validation error can name it."""

    loc: tuple[int | str, ...]
    parameter: str


def substitute(
    data: Any, values: Mapping[str, Any], loc: tuple[int | str, ...] = ()
) -> tuple[Any, list[Substitution], list[tuple[tuple[int | str, ...], str]]]:
    """Replace ``${name}`` references; returns (new data, where each parameter went, unknown references)."""
    used: list[Substitution] = []
    unknown: list[tuple[tuple[int | str, ...], str]] = []

    def walk(node: Any, here: tuple[int | str, ...]) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, (*here, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*here, i)) for i, v in enumerate(node)]
        if isinstance(node, str):
            whole = _WHOLE.match(node)
            if whole:
                found, value = _lookup(values, whole.group(1))
                if not found:
                    unknown.append((here, whole.group(1)))
                    return node
                used.append(Substitution(here, whole.group(1)))
                return _copy(value)

            def inner(match: re.Match[str]) -> str:
                found, value = _lookup(values, match.group(1))
                if not found:
                    unknown.append((here, match.group(1)))
                    return match.group(0)
                used.append(Substitution(here, match.group(1)))
                return str(value)

            return _INNER.sub(inner, node)
        return node

    return walk(data, loc), used, unknown
