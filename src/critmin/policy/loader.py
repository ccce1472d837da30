"""Reading measure libraries and scenarios into a validated, ordered :class:`MeasureSet`.

The shipped libraries live in ``critmin/policy/library``: ``in_force/*.yaml`` (the law as data, each measure
with its window and citation) and ``scenarios/*.yaml`` (PCMDP scenarios built on top of it). A user's own
file is read the same way. Every error is collected (not just the first) and names file, line, field and
the fix.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from critmin.policy import models as m
from critmin.policy._yaml import YamlDocument, read_yaml
from critmin.policy.errors import PolicyError, Problem, UnknownScenarioError
from critmin.policy.params import Override, Substitution, apply_overrides, parse_overrides, substitute

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
IN_FORCE_DIR = LIBRARY_DIR / "in_force"
SCENARIO_DIR = LIBRARY_DIR / "scenarios"


def _all_field_names() -> set[str]:
    names: set[str] = set()
    for obj in vars(m).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            names.update(obj.model_fields)
    return names


@dataclass(frozen=True)
class SourceFile:
    path: str
    sha256: str


@dataclass(frozen=True)
class ParameterValue:
    """A parameter as used in a run: its value, whether it was overridden, whether it is an example."""

    name: str
    value: Any
    description: str
    example: bool
    overridden: bool
    unit: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Binding:
    """A scenario parameter filling one field of one measure (``field`` as a path inside the measure, e.g.
    ``("rate", "rate")`` or ``("rate", "reference_prices", 0, "price_usd_per_kg")``).

    Computed once when the scenario is loaded, so the simulator knows which number a drawn parameter moves
    without reading the scenario file again.
    """

    parameter: str
    measure_id: str
    field: tuple[int | str, ...]


@dataclass(frozen=True)
class Located:
    """Where a measure was defined."""

    file: str
    line: int | None


@dataclass(frozen=True)
class MeasureSet:
    """The validated input of the duty engine: measures in computation order, with where they came from."""

    id: str
    title: str
    description: str
    measures: tuple[m.Measure, ...]
    parameters: dict[str, ParameterValue] = field(default_factory=dict)
    sources: tuple[SourceFile, ...] = ()
    located: dict[str, Located] = field(default_factory=dict)
    bindings: tuple[Binding, ...] = ()

    def __post_init__(self) -> None:
        ids = [measure.id for measure in self.measures]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise PolicyError(
                [
                    Problem(
                        self._where(i).file,
                        self._where(i).line,
                        "id",
                        f"measure id {i!r} is defined twice.",
                        "give each measure a unique id (scenario measures may not reuse library ids).",
                    )
                    for i in duplicates
                ]
            )
        object.__setattr__(self, "measures", order_measures(self.measures, self.located))

    def _where(self, measure_id: str) -> Located:
        return self.located.get(measure_id, Located(self.id, None))

    def by_id(self) -> dict[str, m.Measure]:
        return {measure.id: measure for measure in self.measures}

    def example_parameters(self) -> list[ParameterValue]:
        return [p for p in self.parameters.values() if p.example]


# ---------------------------------------------------------------------------------------------------------
# ordering and references


def resolve_refs(ref: str, measures: Sequence[m.Measure], *, self_id: str) -> list[str]:
    """Measure ids a stacking reference points at within a set (``authority:x`` and ``family:x`` may match
    none)."""
    if ref.startswith("authority:"):
        authority = ref.removeprefix("authority:")
        return [x.id for x in measures if x.authority.value == authority and x.id != self_id]
    if ref.startswith("family:"):
        family = ref.removeprefix("family:")
        return [x.id for x in measures if x.family == family and x.id != self_id]
    return [x.id for x in measures if x.id == ref and x.id != self_id]


def is_selector(ref: str) -> bool:
    """``authority:x`` and ``family:x`` select measures by a property and may match none in a set."""
    return ref.startswith(("authority:", "family:"))


def not_on_targets(measure: m.Measure, measures: Sequence[m.Measure]) -> list[str]:
    """Ids whose charged value this measure does not stack on.

    An explicit id always counts. An ``authority:<name>`` selector counts the measures of that authority
    with a lower ``precedence`` than this one (the ones computed before it), so two scenario measures of the
    same authority and precedence never refer to each other.
    """
    out: list[str] = []
    for ref in measure.stacking.not_on:
        for target in resolve_refs(ref, measures, self_id=measure.id):
            if is_selector(ref):
                other = next(x for x in measures if x.id == target)
                if other.stacking.precedence >= measure.stacking.precedence:
                    continue
            if target not in out:
                out.append(target)
    return out


def order_measures(
    measures: Sequence[m.Measure], located: dict[str, Located] | None = None
) -> tuple[m.Measure, ...]:
    """Computation order: a measure comes after those it does not stack on and after those that exclude it.

    A ``not_on`` target that charges nothing (a 0% measure), or that the measure itself excludes, removes
    nothing from its basis, so it imposes no order.

    Ties are broken by ``stacking.precedence`` then id, so the order (which is also the order a line's
    duty is explained in) is deterministic. A cycle is an error naming its members.
    """
    located = located or {}
    known_library = library_ids()
    by_id = {x.id: x for x in measures}
    before: dict[str, set[str]] = {x.id: set() for x in measures}
    problems: list[Problem] = []
    for x in measures:
        excluded = {t for ref in x.stacking.excludes for t in resolve_refs(ref, measures, self_id=x.id)}
        for ref in x.stacking.not_on:
            if not is_selector(ref) and ref not in by_id and ref not in known_library:
                problems.append(_unknown_ref(x, ref, "not_on", measures, located))
        # A target this measure excludes never applies where it does, so it claims nothing here.
        targets = not_on_targets(x, measures)
        before[x.id].update(t for t in targets if by_id[t].claims_value and t not in excluded)
        for ref in x.stacking.excludes:
            targets = resolve_refs(ref, measures, self_id=x.id)
            if not targets and not is_selector(ref) and ref not in known_library:
                problems.append(_unknown_ref(x, ref, "excludes", measures, located))
            for target in targets:
                before[target].add(x.id)
    if problems:
        raise PolicyError(problems)
    ordered: list[m.Measure] = []
    placed: set[str] = set()
    remaining = sorted(measures, key=lambda x: (x.stacking.precedence, x.id))
    while remaining:
        ready = [x for x in remaining if before[x.id] <= placed]
        if not ready:
            cycle = ", ".join(x.id for x in remaining)
            first = remaining[0]
            where = located.get(first.id, Located("<measures>", None))
            raise PolicyError.single(
                where.file,
                "stacking",
                f"stacking references form a cycle among: {cycle}.",
                "a measure cannot both exclude (or not stack on) another and be excluded by it; remove one "
                "of the references.",
                line=where.line,
            )
        chosen = ready[0]
        ordered.append(chosen)
        placed.add(chosen.id)
        remaining.remove(chosen)
    return tuple(ordered)


def _unknown_ref(
    measure: m.Measure, ref: str, key: str, measures: Sequence[m.Measure], located: dict[str, Located]
) -> Problem:
    where = located.get(measure.id, Located("<measures>", None))
    candidates = [x.id for x in measures] + sorted(library_ids())
    close = difflib.get_close_matches(ref, candidates, n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return Problem(
        where.file,
        where.line,
        f"{measure.id}.stacking.{key}",
        f"refers to {ref!r}, which is neither in this set nor in the shipped library.",
        f"{hint}use a measure id or `authority:<name>`.",
    )


# ---------------------------------------------------------------------------------------------------------
# validation errors -> problems


def _field_text(loc: Sequence[int | str]) -> str:
    out = ""
    previous: int | str | None = None
    for step in loc:
        if isinstance(step, int):
            out += f"[{step}]"
        elif step in m.RATE_MODELS and previous in {"rate", "in_quota", "over_quota"}:
            pass  # union tag added by Pydantic
        else:
            out += f".{step}" if out else str(step)
        previous = step
    return out


def _strip_tags(loc: Sequence[int | str]) -> tuple[int | str, ...]:
    """The location without Pydantic's union tags (as written in the YAML)."""
    out: list[int | str] = []
    for step in loc:
        if step in m.RATE_MODELS and out and out[-1] in {"rate", "in_quota", "over_quota"}:
            continue
        out.append(step)
    return tuple(out)


def _fix_for(error: Any, known_fields: set[str]) -> str:
    kind = error["type"]
    loc = error["loc"]
    last = str(loc[-1]) if loc else ""
    if kind == "missing":
        return f"add `{last}` (see docs/measures.md)."
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(last, sorted(known_fields), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        return f"remove `{last}` or correct its spelling.{hint}"
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        return "set `kind` to one of the kinds listed by `critmin policy mechanisms`."
    if kind in {"literal_error", "enum"}:
        return "use one of the values listed."
    if kind.startswith(("float", "int", "decimal")) or kind in {
        "greater_than",
        "greater_than_equal",
        "less_than_equal",
    }:
        return 'give a number in range: rates as fractions (0.25) or percent strings ("25%").'
    if kind.startswith(("date", "datetime")):
        return "write the date as YYYY-MM-DD."
    if kind == "string_pattern_mismatch":
        if last == "url":
            return "give the full http(s) address of the source."
        return "use lower_snake_case letters, digits and underscores, starting with a letter."
    if kind in {"too_short", "string_too_short"}:
        return "give at least one entry (every measure needs a citation; lists cannot be empty)."
    return "correct the value as the message says (format reference: docs/measures.md)."


def validation_problems(
    exc: ValidationError,
    doc: YamlDocument,
    loc_prefix: tuple[int | str, ...] = (),
    substitutions: Sequence[Substitution] = (),
    overridden: set[str] | None = None,
    measure_ids: dict[int, str] | None = None,
) -> list[Problem]:
    """Turn a Pydantic error into problems located in the YAML file."""
    known = _all_field_names()
    problems: list[Problem] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        full = (*loc_prefix, *loc)
        field_name = _field_text(full)
        message = str(error["msg"]).removeprefix("Value error, ")
        if not message.endswith("."):
            message += "."
        if measure_ids and len(loc) >= 2 and loc[0] == "measures" and isinstance(loc[1], int):
            mid = measure_ids.get(loc[1])
            if mid:
                message = f"(measure `{mid}`) {message}"
        plain = _strip_tags(full)
        for sub in substitutions:
            if plain[: len(sub.loc)] == sub.loc:
                how = " (set with --set)" if overridden and sub.parameter.split(".")[0] in overridden else ""
                message += f" The value comes from parameter `{sub.parameter}`{how}."
        problems.append(Problem(doc.path, doc.line_of(full), field_name, message, _fix_for(error, known)))
    return problems


# ---------------------------------------------------------------------------------------------------------
# libraries


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_measure_file(path: Path) -> tuple[list[m.Measure], dict[str, Located], SourceFile]:
    """Validate a library-style file (a top-level ``measures`` list)."""
    doc = read_yaml(path)
    if not isinstance(doc.data, dict) or "measures" not in doc.data:
        raise PolicyError.single(
            path,
            "measures",
            "has no top-level `measures` list.",
            "start the file with `measures:` followed by a list of measures "
            "(or `scenario:` for a scenario file).",
            line=1,
        )
    ids = {
        i: str(item.get("id"))
        for i, item in enumerate(doc.data.get("measures") or [])
        if isinstance(item, dict) and "id" in item
    }
    try:
        parsed = m.MeasureFile.model_validate(doc.data)
    except ValidationError as exc:
        raise PolicyError(validation_problems(exc, doc, measure_ids=ids)) from None
    located = {x.id: Located(str(path), doc.line_of(("measures", i))) for i, x in enumerate(parsed.measures)}
    return list(parsed.measures), located, SourceFile(str(path), _sha(path))


@dataclass(frozen=True)
class Library:
    measures: tuple[m.Measure, ...]
    located: dict[str, Located]
    sources: tuple[SourceFile, ...]


@cache
def library() -> Library:
    """The shipped in-force library (all files in ``library/in_force``)."""
    measures: list[m.Measure] = []
    located: dict[str, Located] = {}
    sources: list[SourceFile] = []
    for path in sorted(IN_FORCE_DIR.glob("*.yaml")):
        found, where, source = load_measure_file(path)
        for x in found:
            if x.id in located:
                raise PolicyError.single(
                    path,
                    "id",
                    f"measure id {x.id!r} is also defined in {located[x.id].file}.",
                    "library ids must be unique.",
                    line=where[x.id].line,
                )
        measures.extend(found)
        located.update(where)
        sources.append(source)
    return Library(tuple(measures), located, tuple(sources))


def library_ids() -> frozenset[str]:
    return frozenset(x.id for x in library().measures)


def in_force_set(as_of: date | None = None) -> MeasureSet:
    """The in-force library as a measure set; with ``as_of``, only measures whose window contains it."""
    lib = library()
    chosen = [x for x in lib.measures if as_of is None or x.window_contains(as_of)]
    title = "Measures in force" + (f" on {as_of.isoformat()}" if as_of else " (every dated window)")
    return MeasureSet(
        "in_force", title, "The shipped in-force library.", tuple(chosen), {}, lib.sources, dict(lib.located)
    )


# ---------------------------------------------------------------------------------------------------------
# scenarios


@dataclass(frozen=True)
class ScenarioSummary:
    id: str
    title: str
    description: str
    path: str
    parameters: dict[str, ParameterValue]
    measure_ids: tuple[str, ...]


def shipped_scenario_paths() -> dict[str, Path]:
    return {path.stem: path for path in sorted(SCENARIO_DIR.glob("*.yaml"))}


def _scenario_path(name_or_path: str | Path) -> Path:
    shipped = shipped_scenario_paths()
    text = str(name_or_path)
    if text in shipped:
        return shipped[text]
    path = Path(text)
    if path.suffix in {".yaml", ".yml"} or path.exists():
        return path
    close = difflib.get_close_matches(text, list(shipped), n=3)
    hint = f"Did you mean {', '.join(close)}? " if close else ""
    raise UnknownScenarioError(
        [
            Problem(
                text,
                None,
                "scenario",
                "is neither a shipped scenario nor a YAML file.",
                f"{hint}shipped scenarios: {', '.join(shipped)}; or give the path of a scenario file.",
            )
        ]
    )


def load_scenario(name_or_path: str | Path, overrides: Iterable[str | Override] = ()) -> MeasureSet:
    """A shipped scenario by id, or a scenario file by path, with ``--set`` overrides applied."""
    overrides = list(overrides)
    path = _scenario_path(name_or_path)
    doc = read_yaml(path)
    if not isinstance(doc.data, dict) or "scenario" not in doc.data:
        if isinstance(doc.data, dict) and "measures" in doc.data:
            file_measures, file_located, source = load_measure_file(path)
            if _as_overrides(overrides):
                raise PolicyError.single(
                    path,
                    "parameters",
                    "is a measure file; it has no parameters to --set.",
                    "wrap the measures in a scenario file with a `parameters` block.",
                )
            return MeasureSet(
                path.stem,
                f"Measures from {path.name}",
                "User measure file.",
                tuple(file_measures),
                {},
                (source,),
                file_located,
            )
        raise PolicyError.single(
            path,
            "scenario",
            "has no top-level `scenario` block.",
            "start a scenario file with `scenario:` (see docs/measures.md).",
            line=1,
        )
    try:
        spec = m.ScenarioFile.model_validate(doc.data).scenario
    except ValidationError as exc:
        raise PolicyError(validation_problems(exc, doc)) from None
    parsed = _as_overrides(overrides)
    values, touched = apply_overrides(
        {k: p.value for k, p in spec.parameters.items()},
        parsed,
        str(path),
        units={k: p.unit for k, p in spec.parameters.items()},
    )
    raw, subs, unknown = substitute(spec.measures, values, ("scenario", "measures"))
    problems: list[Problem] = []
    for loc, ref in unknown:
        problems.append(
            Problem(
                str(path),
                doc.line_of(loc),
                _field_text(loc),
                f"refers to parameter `{ref}`, which the scenario does not declare.",
                f"declare it under scenario.parameters or fix the name; declared: "
                f"{', '.join(sorted(spec.parameters)) or 'none'}.",
            )
        )
    measures: list[m.Measure] = []
    located: dict[str, Located] = {}
    for i, item in enumerate(raw):
        mid = str(item.get("id")) if isinstance(item, dict) else None
        try:
            measure = m.Measure.model_validate(item)
        except ValidationError as exc:
            errs = validation_problems(exc, doc, ("scenario", "measures", i), subs, touched)
            if mid:
                errs = [
                    Problem(p.file, p.line, p.field, f"(measure `{mid}`) {p.message}", p.fix) for p in errs
                ]
            problems.extend(errs)
            continue
        measures.append(measure)
        located[measure.id] = Located(str(path), doc.line_of(("scenario", "measures", i)))
    lib = library()
    lib_ids = {x.id for x in lib.measures}
    for key in ("include", "exclude"):
        for i, ref in enumerate(getattr(spec, key)):
            if ref not in lib_ids:
                close = difflib.get_close_matches(ref, sorted(lib_ids), n=3)
                hint = f"did you mean {', '.join(close)}? " if close else ""
                problems.append(
                    Problem(
                        str(path),
                        doc.line_of(("scenario", key, i)),
                        f"scenario.{key}[{i}]",
                        f"{ref!r} is not a measure of the in-force library.",
                        f"{hint}list ids shown by `critmin policy list`.",
                    )
                )
    if problems:
        raise PolicyError(problems)
    base = list(lib.measures) if spec.base == "in_force" else []
    base += [x for x in lib.measures if x.id in spec.include and x not in base]
    base = [x for x in base if x.id not in spec.exclude]
    parameters = {
        name: ParameterValue(
            name,
            values[name],
            p.description,
            p.example and name not in touched,
            name in touched,
            p.unit,
            p.source,
        )
        for name, p in spec.parameters.items()
    }
    return MeasureSet(
        spec.id,
        spec.title,
        spec.description,
        tuple(base + measures),
        parameters,
        (*(lib.sources if base else ()), SourceFile(str(path), _sha(path))),
        {**{k: v for k, v in lib.located.items() if any(x.id == k for x in base)}, **located},
        _bindings(raw, subs),
    )


def _bindings(raw: list[Any], subs: Sequence[Substitution]) -> tuple[Binding, ...]:
    """Where each parameter went, by measure id (``subs`` are located from ``scenario.measures``)."""
    out = []
    for sub in subs:
        index = sub.loc[2]
        item = raw[index] if isinstance(index, int) and index < len(raw) else None
        if isinstance(item, dict) and "id" in item:
            out.append(Binding(sub.parameter, str(item["id"]), tuple(sub.loc[3:])))
    return tuple(out)


def _as_overrides(items: Iterable[str | Override]) -> list[Override]:
    strings = [item for item in items if isinstance(item, str)]
    ready = [item for item in items if isinstance(item, Override)]
    return ready + parse_overrides(strings)


def shipped_scenarios() -> list[ScenarioSummary]:
    """The scenarios shipped in the library, each with its parameters and the measures it adds."""
    out = []
    for sid, path in shipped_scenario_paths().items():
        measure_set = load_scenario(sid)
        doc_ids = [
            x.id
            for x in measure_set.measures
            if measure_set.located.get(x.id, Located("", None)).file == str(path)
        ]
        out.append(
            ScenarioSummary(
                measure_set.id,
                measure_set.title,
                measure_set.description,
                str(path),
                measure_set.parameters,
                tuple(doc_ids),
            )
        )
    return out


def validate_file(path: Path) -> MeasureSet:
    """Validate any measure or scenario file; raises :class:`PolicyError` listing every problem."""
    return load_scenario(path)
