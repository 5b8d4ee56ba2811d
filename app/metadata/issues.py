"""Problems found in the YAML metadata: values with an id, a location, what is wrong and the fix."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in one file. Rendered as ``file:line: Exxx message — hint``."""

    file: str
    line: int
    id: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}: {self.id} {self.message}"
        return f"{text} — {self.hint}" if self.hint else text


class MetadataError(Exception):
    """Raised when the metadata cannot be loaded; carries every issue found, sorted."""

    def __init__(self, issues: Iterable[Issue]):
        self.issues = sorted(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    def report(self) -> str:
        noun = "problem" if len(self.issues) == 1 else "problems"
        return "\n".join(str(i) for i in self.issues) + f"\n{len(self.issues)} {noun} in the metadata."


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest known word, or listing the known words when none is close."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if not choices:
        return ""
    shown = ", ".join(choices[:12]) + (", …" if len(choices) > 12 else "")
    return f"known: {shown}"
