"""How typed text is normalised before it is checked and stored (``normalise:`` on a field, or the default of
its type and validators): full-width characters to ASCII (NFKC), trimmed, spaces collapsed or removed, codes
upper-cased. Applied by the forms (so the API), the import and the checks of examples, in the same order."""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable

from flask_babel import lazy_gettext as _l

#: the steps, in the order they are applied whatever order the YAML lists them in
STEPS: dict[str, Callable[[str], str]] = {
    "nfkc": lambda text: unicodedata.normalize("NFKC", text),
    "trim": str.strip,
    "collapse_spaces": lambda text: re.sub(r"\s+", " ", text),
    "no_spaces": lambda text: "".join(text.split()),
    "upper": str.upper,
    "lower": str.lower,
}
HINTS = {
    "nfkc": _l("full-width letters and digits become half-width"),
    "trim": _l("spaces before and after are removed"),
    "collapse_spaces": _l("repeated spaces become one"),
    "no_spaces": _l("all spaces are removed"),
    "upper": _l("letters become capitals"),
    "lower": _l("letters become small letters"),
}
CODE = ("nfkc", "trim", "no_spaces")
#: validators whose values are codes: the steps their fields take by default
CODE_VALIDATORS = {"uscc": CODE + ("upper",), "id_card": CODE + ("upper",), "mobile": CODE, "phone": CODE,
                   "cas": CODE}


def _pattern_wants_upper(pattern: str) -> bool:
    """A pattern with capital letters and no small ones ([A-Z0-9]{18}): typed small letters are meant as capitals."""
    return "A-Z" in pattern and "a-z" not in pattern and "(?i" not in pattern


def _validator_names(field: Any) -> list[str]:
    names: list[str] = []
    for ref in field.validators:
        names += list(ref.params) if ref.name == "one_of" and isinstance(ref.params, list) else [ref.name]
    return names


def default_steps(field: Any) -> tuple[str, ...]:
    """The steps of a field without ``normalise``: codes (a code validator or a regex) NFKC, no spaces (regex:
    spaces collapsed), capitals where the validator or pattern wants them; other text trimmed, spaces collapsed."""
    if field.type == "text":
        return ("trim",)
    if field.type != "string":
        return ()
    names = _validator_names(field)
    for name in names:
        if name in CODE_VALIDATORS:
            return CODE_VALIDATORS[name]
    for ref in field.validators:
        if ref.name == "regex":
            pattern = ref.params if isinstance(ref.params, str) else (ref.params or {}).get("pattern", "")
            return ("nfkc", "trim", "collapse_spaces") + (("upper",) if _pattern_wants_upper(str(pattern)) else ())
    return ("trim", "collapse_spaces")


def steps_of(field: Any) -> tuple[str, ...]:
    declared = getattr(field, "normalise", None)
    chosen = default_steps(field) if declared is None else declared
    return tuple(step for step in STEPS if step in chosen)


def normalise(field: Any, value: Any) -> Any:
    """The value as it is checked and stored; anything but text is left as it is."""
    if not isinstance(value, str):
        return value
    for step in field.normalise_steps:  # found once per field (an import normalises a column cell by cell)
        value = step(value)
    return value


def normalise_hint(field: Any) -> str:
    """What the import does to a cell of this field, for the template's 填写说明 ('' when nothing beyond a trim)."""
    steps = [s for s in steps_of(field) if s != "trim"]
    return "；".join(str(HINTS[s]) for s in steps)
