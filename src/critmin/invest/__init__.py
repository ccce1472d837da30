"""Appraisal of a domestic processing project under price floors, tariffs, offtake and price risk."""

from critmin.invest.appraise import Appraisal, appraise
from critmin.invest.model import Project, load_project

__all__ = ["Appraisal", "Project", "appraise", "load_project"]
