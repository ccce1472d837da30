"""Errors raised while reading measure and scenario files.

Every problem names the file, the line, the field and what to do about it, because the person reading it
is usually editing a YAML file by hand and needs to find the spot without a debugger.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from critmin.errors import InputError, NotFoundError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy file."""

    file: str
    line: int | None
    field: str
    message: str
    fix: str

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" field `{self.field}`" if self.field else ""
        return f"{where}:{field} {self.message} Fix: {self.fix}"


class PolicyError(InputError):
    """A measure or scenario file, or a parameter override, is invalid. Lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [problem.render() for problem in problems]
        head = "1 problem" if len(lines) == 1 else f"{len(lines)} problems"
        super().__init__(f"Invalid policy input ({head}):\n" + "\n".join(f"  - {line}" for line in lines))

    @classmethod
    def single(
        cls, file: str | Path, field: str, message: str, fix: str, line: int | None = None
    ) -> PolicyError:
        return cls([Problem(str(file), line, field, message, fix)])


class UnknownScenarioError(PolicyError, NotFoundError):
    """A scenario or measure id that is neither shipped nor a readable file."""
