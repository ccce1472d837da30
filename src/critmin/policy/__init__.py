"""Trade measures as data: typed models, the shipped libraries (in force; PCMDP scenarios) and parameters."""

from critmin.policy.errors import PolicyError, Problem, UnknownScenarioError
from critmin.policy.loader import (
    MeasureSet,
    ParameterValue,
    in_force_set,
    library,
    load_measure_file,
    load_scenario,
    shipped_scenarios,
    validate_file,
)
from critmin.policy.models import Measure, MeasureFile, ScenarioFile

__all__ = [
    "Measure",
    "MeasureFile",
    "MeasureSet",
    "ParameterValue",
    "PolicyError",
    "Problem",
    "ScenarioFile",
    "UnknownScenarioError",
    "in_force_set",
    "library",
    "load_measure_file",
    "load_scenario",
    "shipped_scenarios",
    "validate_file",
]
