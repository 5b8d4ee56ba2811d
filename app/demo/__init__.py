"""Demo data for the embedded default: rows from app/demo/data/*.yaml plus generated enterprises."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Callable

import yaml
from flask import current_app
from sqlalchemy import func, select

from app.metadata.validators import run_validators
from app.services import Services, services

from .enterprises import generate_enterprises

DATA = Path(__file__).parent / "data"


def _coerce(svc: Services, spec: Any, name: str, value: Any) -> Any:
    f = spec.field(name)
    if value is None:
        return None
    if f.type in ("enum", "tree"):
        code = svc.dictionaries.code_for_label(f.dictionary, str(value))
        if code is None:
            raise ValueError(f"{spec.name}.{name}: {value!r} is not in dictionary {f.dictionary}")
        return code
    if f.type == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if f.type == "reference":
        target_spec = svc.registry.register(f.target)
        target = svc.models[f.target]
        found = svc.session.scalar(select(target).where(getattr(target, target_spec.title_field) == value))
        if found is None:
            raise ValueError(f"{spec.name}.{name}: no {f.target} titled {value!r}")
        return found
    return value


def insert_rows(svc: Services, register: str, rows: list[dict[str, Any]]) -> int:
    """Insert rows given as {field: value}; every value passes the field's declared validators first."""
    spec = svc.registry.register(register)
    model = svc.models[register]
    for values in rows:
        row = model()
        for name, value in values.items():
            if name.endswith(("_lat", "_lng")):
                setattr(row, name, value)
                continue
            f = spec.field(name)
            failures = run_validators(f, value)
            if failures:
                raise ValueError(f"demo {register}.{name} = {value!r}: {failures[0].text()}")
            if f.type == "children":
                child_model = svc.models[f.target]
                setattr(row, name, [child_model(**child) for child in value])
            else:
                setattr(row, name, _coerce(svc, spec, name, value))
        svc.session.add(row)
    svc.session.commit()
    return len(rows)


def load_demo(enterprises: int = 300, echo: Callable[[str], Any] = print) -> None:
    svc = services()
    # a plugin's demo rows (plugins/<name>/demo/*.yaml) come after the product's, which they may refer to
    plugins = current_app.extensions.get("safety_plugins", {}).values()
    paths = sorted(DATA.glob("*.yaml")) + [p for plugin in plugins for p in sorted((plugin.root / "demo").glob("*.yaml"))]
    contents = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in paths]
    for content in _in_reference_order(svc, contents):
        _load_if_empty(svc, content["register"], content["rows"], echo)
        svc.session.commit()
    _load_if_empty(svc, "enterprise", generate_enterprises(svc, enterprises), echo)


def _in_reference_order(svc: Services, contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The demo files, each after the files of the registers its rows refer to (references are given by title),
    otherwise in the order given (stable)."""
    given = {content["register"] for content in contents}
    depths: dict[str, int] = {}

    def depth(register: str, path: tuple[str, ...] = ()) -> int:
        if register in depths:
            return depths[register]
        if register not in svc.registry.registers or register in path:
            return 0
        targets = {f.target for f in svc.registry.register(register).fields
                   if f.type == "reference" and f.target in given and f.target != register}
        depths[register] = 1 + max((depth(t, path + (register,)) for t in targets), default=-1)
        return depths[register]

    return sorted(contents, key=lambda content: depth(content["register"]))


def _load_if_empty(svc: Services, register: str, rows: list[dict[str, Any]], echo: Callable[[str], Any]) -> None:
    if register not in svc.registry.registers:
        return
    model = svc.models[register]
    if svc.session.execute(select(func.count()).select_from(model)).scalar_one():
        echo(f"Demo {register}: already has rows, left as is.")
        return
    echo(f"Demo {register}: {insert_rows(svc, register, rows)} rows.")
