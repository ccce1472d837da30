"""Turn the paths of a scenario tree into project branches.

A project says how each policy scenario reaches it in ``scenario_effects``: scenario id -> {project field
(dotted, as for --set) -> scenario parameter (dotted, e.g. ``rate`` or ``reference_prices.ndpr_oxide``)}.
For each tree path, the scenario in force at the end of the path decides the branch: its parameters are the
scenario file's values overridden by the tree's, with distributions taken at their mean (the deterministic
appraisal of a branch; Monte Carlo over prices is separate). Scenarios a project does not list leave it as is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from critmin.invest.appraise import Branch
from critmin.invest.model import Project
from critmin.policy.loader import load_scenario
from critmin.policy.trees import Tree, is_distribution, paths, sample


def _scenario_defaults(scenario: str) -> dict[str, Any]:
    return {name: parameter.value for name, parameter in load_scenario(scenario).parameters.items()}


def _mean(value: Any) -> Any:
    if not is_distribution(value):
        return value
    draws = sample(value, np.random.default_rng(0), 200_000)
    return float(np.mean(draws.astype(np.float64)))


def _lookup(values: dict[str, Any], dotted: str, scenario: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ValueError(f"scenario `{scenario}` has no parameter `{dotted}` (used in scenario_effects)")
        node = node[part]
    return node


def branches_from_tree(project: Project, tree: Tree) -> list[Branch]:
    out = []
    for path in paths(tree):
        last = path.segments[-1] if path.segments else None
        overrides: dict[str, Any] = {}
        if last is not None and last.scenario in project.scenario_effects:
            values = _scenario_defaults(last.scenario) | {k: _mean(v) for k, v in last.params.items()}
            for field, parameter in project.scenario_effects[last.scenario].items():
                overrides[field] = _lookup(values, parameter, last.scenario)
        out.append(Branch(path.name, path.probability, overrides))
    return out
