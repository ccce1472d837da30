"""What the user chose as inputs to the analysis: scenario parameters, the simulation, sourcing, projects.

Each choice is checked by the library function the command line uses (``load_scenario`` with ``--set``
items, ``load_tree``, ``critmin.optimize.load_problem``, ``critmin.invest.load_project``) before it is kept,
and every way it can be wrong comes back as a list of :class:`FieldProblem` (file, line, field, message,
fix) for the form or the JSON body. The choices last as long as the server runs; the analysis reads them
through :func:`critmin.web.queries.build_analysis`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import ValidationError

from critmin import yamlfile
from critmin.errors import InputError
from critmin.invest import Project, load_project
from critmin.optimize import Problem, load_problem
from critmin.paths import SAMPLES_DIR
from critmin.policy.errors import PolicyError
from critmin.policy.loader import load_scenario, shipped_scenario_paths
from critmin.policy.trees import Tree, load_tree, shipped_trees
from critmin.views.analysis import BASELINE_SCENARIO, DEFAULT_TREE
from critmin.yamlfile import YamlFileError

T = TypeVar("T")

MAX_DRAWS = 50_000
PARAMETERS_SOURCE = "--set"  # how the library names a --set item as the "file" of a problem
_FROM_PARAMETER = re.compile(r"comes from parameter `([a-z][a-z0-9_]*)`")


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with an input, placed: ``field`` is the form field or the YAML key path."""

    file: str
    line: int | None
    field: str
    message: str
    fix: str


class InvalidInputError(InputError):
    """An input the dashboard cannot use; ``problems`` lists each with its field and the fix."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(_sentence(p) for p in self.problems))


class InputTooLargeError(InvalidInputError):
    """An uploaded input file over the limit."""

    http_status = 413


def _sentence(p: FieldProblem) -> str:
    where = f"{p.file}:{p.line}" if p.line is not None else p.file
    field_text = f" field `{p.field}`" if p.field else ""
    return f"{where}:{field_text} {p.message} Fix: {p.fix}"


@dataclass(frozen=True)
class Uploaded(Generic[T]):
    """A parsed upload and the name the user gave its file."""

    label: str
    value: T


@dataclass(frozen=True)
class AnalysisInputs:
    """The inputs of every analysis the dashboard runs; defaults come from :class:`WebSettings`."""

    draws: int
    sourcing_name: str | None
    project_names: tuple[str, ...]
    parameters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tree: str = DEFAULT_TREE
    tree_upload: Uploaded[Tree] | None = None
    sourcing_upload: Uploaded[Problem] | None = None
    project_upload: Uploaded[Project] | None = None

    # -------------------------------------------------------------------------------- what analyse takes
    def analysis_tree(self) -> str | Tree:
        return self.tree_upload.value if self.tree_upload is not None else self.tree

    def sourcing(self) -> tuple[Problem | None, str | None]:
        if self.sourcing_upload is not None:
            return self.sourcing_upload.value, self.sourcing_upload.label
        if self.sourcing_name is None:
            return None, None
        return load_problem(SAMPLES_DIR / "sourcing" / f"{self.sourcing_name}.yaml"), self.sourcing_name

    def projects(self) -> list[Project]:
        if self.project_upload is not None:
            return [self.project_upload.value]
        return [load_project(SAMPLES_DIR / "projects" / f"{name}.yaml") for name in self.project_names]

    # --------------------------------------------------------------------------------------- for display
    @property
    def tree_label(self) -> str:
        return self.tree_upload.label if self.tree_upload is not None else self.tree

    def parameter_values(self, scenario: str) -> dict[str, str]:
        """The scenario's parameters as text a form field shows and :func:`set_parameters` reads back."""
        measure_set = load_scenario(scenario, self.parameters.get(scenario, ()))
        return {name: value_text(p.value) for name, p in measure_set.parameters.items()}


@dataclass(frozen=True)
class ParameterField:
    name: str
    value: str
    description: str
    unit: str | None
    overridden: bool


@dataclass(frozen=True)
class ParameterForm:
    scenario: str
    title: str
    fields: tuple[ParameterField, ...]

    @property
    def overridden(self) -> bool:
        return any(f.overridden for f in self.fields)


def parameter_forms(inputs: AnalysisInputs) -> list[ParameterForm]:
    """One form per scenario with parameters: each field's value in effect and whether it was set here."""
    forms = []
    for scenario in parameter_scenarios():
        measure_set = load_scenario(scenario, inputs.parameters.get(scenario, ()))
        fields = tuple(
            ParameterField(p.name, value_text(p.value), p.description, p.unit, p.overridden)
            for p in measure_set.parameters.values()
        )
        if fields:
            forms.append(ParameterForm(scenario, measure_set.title, fields))
    return forms


def value_text(value: Any) -> str:
    """A parameter value written as a ``--set`` value: YAML flow style, one line (``[usmca, us_fta]``)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, allow_unicode=True, sort_keys=False)
    return text.removesuffix("\n...\n").strip()


def parameter_scenarios() -> list[str]:
    """The shipped scenarios whose parameters can be set (the baseline is the law in force: none)."""
    return [name for name in shipped_scenario_paths() if name != BASELINE_SCENARIO]


# ---------------------------------------------------------------------------------- scenario parameters


def changed_items(scenario: str, fields: Mapping[str, str]) -> list[str]:
    """``name=value`` items for the fields whose text differs from the scenario file's own value."""
    defaults = {name: value_text(p.value) for name, p in load_scenario(scenario).parameters.items()}
    return [
        f"{name}={text.strip()}"
        for name, text in fields.items()
        if text.strip() and text.strip() != defaults.get(name)
    ]


def set_parameters(inputs: AnalysisInputs, scenario: str, items: Sequence[str]) -> AnalysisInputs:
    """``inputs`` with the scenario's overrides replaced by ``items`` (``--set`` syntax; none resets).

    The scenario is loaded with them, as ``critmin exposure --set`` does, so a value the engine could not
    use (``rate=40``: a rate is ``40%`` or ``0.4``) is refused here with the parameter it belongs to.
    """
    try:
        load_scenario(scenario, items)
    except PolicyError as exc:
        path = str(shipped_scenario_paths().get(scenario, scenario))
        given = [item.partition("=")[0].split(".", 1)[0].strip() for item in items]
        raise InvalidInputError([_parameter_problem(p, scenario, path, given) for p in exc.problems]) from exc
    parameters = {k: v for k, v in inputs.parameters.items() if k != scenario}
    if items:
        parameters[scenario] = tuple(items)
    return replace(inputs, parameters=parameters)


def _parameter_problem(p: Any, scenario: str, path: str, given: Sequence[str]) -> FieldProblem:
    """A library problem placed on the parameter it is about: the ``--set`` key, or the parameter the
    message names, or the only parameter given."""
    if p.file == PARAMETERS_SOURCE:
        name = str(p.field).split(".", 1)[0]
    elif found := _FROM_PARAMETER.search(p.message):
        name = found.group(1)
    else:
        name = given[0] if len(given) == 1 else ""
    message = str(p.message).replace(path, scenario)
    return FieldProblem(scenario, None, name, message, str(p.fix).replace(path, scenario))


# ------------------------------------------------------------------------------------------- simulation


def parse_draws(text: str) -> int:
    """The draws field of the form: a whole number in range."""
    try:
        draws = int(text.strip().replace(",", "").replace("_", ""))
    except ValueError:
        raise InvalidInputError(
            [
                FieldProblem(
                    "simulation",
                    None,
                    "draws",
                    f"{text!r} is not a whole number of draws.",
                    f"write a number from 0 to {MAX_DRAWS:,}, e.g. 2000.",
                )
            ]
        ) from None
    return check_draws(draws)


def check_draws(draws: int) -> int:
    if not 0 <= draws <= MAX_DRAWS:
        raise InvalidInputError(
            [
                FieldProblem(
                    "simulation",
                    None,
                    "draws",
                    f"{draws:,} draws is outside 0 to {MAX_DRAWS:,}.",
                    f"choose up to {MAX_DRAWS:,} draws (0 turns the simulation off); "
                    "for more, run `critmin simulate TREE --draws N`.",
                )
            ]
        )
    return draws


def set_simulation(
    inputs: AnalysisInputs, draws: int, tree: str | None, upload: Uploaded[Tree] | None
) -> AnalysisInputs:
    """A shipped tree (by id) or an uploaded one, and the number of draws."""
    check_draws(draws)
    if upload is not None:
        return replace(inputs, draws=draws, tree=upload.value.id, tree_upload=upload)
    if tree is not None:
        if tree not in shipped_trees():
            raise InvalidInputError(
                [
                    FieldProblem(
                        "simulation",
                        None,
                        "tree",
                        f"{tree!r} is not a shipped scenario tree.",
                        f"choose one of {', '.join(shipped_trees())}, or upload a tree file.",
                    )
                ]
            )
        return replace(inputs, draws=draws, tree=tree, tree_upload=None)
    return replace(inputs, draws=draws)


def set_sourcing(inputs: AnalysisInputs, upload: Uploaded[Problem] | None) -> AnalysisInputs:
    """An uploaded sourcing problem, or None for the one the server was started with."""
    return replace(inputs, sourcing_upload=upload)


def set_project(inputs: AnalysisInputs, upload: Uploaded[Project] | None) -> AnalysisInputs:
    """An uploaded project appraised instead of the configured ones, or None to go back to those."""
    return replace(inputs, project_upload=upload)


# --------------------------------------------------------------------------------- reading uploaded YAML


def read_uploaded_tree(path: Path, label: str) -> Uploaded[Tree]:
    return Uploaded(label, read_tree(path, label))


def read_uploaded_problem(path: Path, label: str) -> Uploaded[Problem]:
    return Uploaded(label, read_problem(path, label))


def read_uploaded_project(path: Path, label: str) -> Uploaded[Project]:
    return Uploaded(label, read_project(path, label))


def read_tree(path: Path, label: str) -> Tree:
    """A scenario tree file, checked by ``load_tree`` (scenarios and parameters it names must exist)."""
    try:
        return load_tree(path)
    except PolicyError as exc:
        raise InvalidInputError(
            [
                FieldProblem(label, p.line, p.field, _relabel(p.message, path, label), p.fix)
                for p in exc.problems
            ]
        ) from exc


def read_problem(path: Path, label: str) -> Problem:
    """A sourcing problem file, checked by ``critmin.optimize.load_problem``."""
    try:
        return load_problem(path)
    except InputError as exc:
        raise InvalidInputError(_loader_problems(exc, path, label, "docs/optimize.md")) from exc


def read_project(path: Path, label: str) -> Project:
    """A project file, checked by ``critmin.invest.load_project``."""
    try:
        return load_project(path)
    except InputError as exc:
        raise InvalidInputError(_loader_problems(exc, path, label, "docs/invest.md")) from exc


def _relabel(text: str, path: Path, label: str) -> str:
    for spelling in (str(path), path.name):
        text = text.replace(spelling, label)
    return text


def _loader_problems(exc: InputError, path: Path, label: str, doc: str) -> list[FieldProblem]:
    """The loader's error as placed problems: one per field its validation refused, with the line."""
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        lines = _line_finder(path)
        return [
            FieldProblem(
                label,
                lines(error["loc"]),
                ".".join(str(step) for step in error["loc"]) or "(top level)",
                _relabel(str(error["msg"]), path, label) + ".",
                _fix_for(error, doc),
            )
            for error in cause.errors()
        ]
    unreadable = exc if isinstance(exc, YamlFileError) else cause
    if isinstance(unreadable, YamlFileError):
        return [FieldProblem(label, unreadable.line, unreadable.key, unreadable.problem, unreadable.fix)]
    return [FieldProblem(label, None, "", _relabel(str(exc), path, label), f"see {doc} for the format.")]


def _fix_for(error: Any, doc: str) -> str:
    kind = str(error.get("type", ""))
    if kind == "missing":
        return f"add the field (its meaning and an example are in {doc})."
    if kind == "extra_forbidden":
        return f"remove the field or correct its spelling (the fields are listed in {doc})."
    return f"correct the value as the message says ({doc} describes each field)."


def _line_finder(path: Path) -> Any:
    """A function from a validation error's location to the 1-based line of the file, where it can tell."""
    try:
        doc = yamlfile.read(path)
    except (YamlFileError, OSError):
        return lambda _loc: None
    return lambda loc: doc.line_of(tuple(step for step in loc if isinstance(step, int | str)))
