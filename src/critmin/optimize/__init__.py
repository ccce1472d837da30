"""Sourcing optimisation: the supply mix minimising expected landed cost plus a price on risk."""

from critmin.optimize.model import Problem, load_problem
from critmin.optimize.solve import Solution, frontier, solve

__all__ = ["Problem", "Solution", "frontier", "load_problem", "solve"]
