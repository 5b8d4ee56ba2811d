"""Rows and accounts for any register, built from its descriptor: valid values for every required field,
and the ownership anchors (region, department, enterprise, creator, organisation) set inside or outside
an actor's scope."""
from __future__ import annotations

import itertools
import random
from datetime import date
from typing import Any

from sqlalchemy import select
from stdnum.cn import ric, uscc

from app.metadata.validators import run_validators

HOME_REGION = "320411"           # 常州市新北区
HOME_TOWNSHIP = "320411004"      # 春江街道, inside it
AWAY_TOWNSHIP = "211302001"      # 朝阳市双塔区, outside it
HOME_DEPARTMENT = "emergency"
AWAY_DEPARTMENT = "housing"
PASSWORD = "Test-Pass-2024"

_counter = itertools.count(1)
_random = random.Random(7)
ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SAMPLES = ["GB 18218-2018", "32058", "1230", "0519-85681234", "13912345678", "Sample"]


def make_uscc() -> str:
    body = "91" + HOME_REGION + "".join(_random.choice(ORG_CHARS) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _string_value(field: Any, n: int) -> str:
    names = [ref.name for ref in field.validators]
    params = [ref.params for ref in field.validators if ref.name == "one_of"]
    names += params[0] if params else []
    if "uscc" in names:
        return make_uscc()
    if "mobile" in names:
        return f"139{n:08d}"
    if "id_card" in names:
        body = f"32041119900101{n % 1000:03d}"
        return body + ric.calc_check_digit(body + "0")
    if "cas" in names:
        return ["67-56-1", "64-17-5", "71-43-2", "108-88-3", "67-64-1", "7664-41-7"][n % 6]
    for sample in [f"Sample {n}", f"GB {n}-2020", f"{n % 100000:05d}", f"{n % 10000:04d}"] + SAMPLES:
        if not run_validators(field, sample) and len(sample) <= getattr(field, "length", 255):
            return sample
    raise AssertionError(f"no sample value for {field.name}")


def value_for(svc: Any, spec: Any, field: Any, n: int, anchors: dict[str, Any]) -> Any:
    if field.name in anchors:
        return anchors[field.name]
    match field.type:
        case "string":
            return _string_value(field, n)
        case "text":
            return f"text {n}"
        case "integer":
            return 1
        case "decimal":
            return 1
        case "boolean":
            return False
        case "date":
            return date.today()
        case "datetime":
            from datetime import datetime
            return datetime.now().replace(microsecond=0)
        case "enum":
            code = svc.dictionaries.choices(field.dictionary)[0][0]
            return [code] if field.multiple else code
        case "tree":
            if field.dictionary == "region":
                return HOME_TOWNSHIP
            tree = svc.dictionaries.tree(field.dictionary)
            return next(code for code, node in tree.nodes.items() if not node.children)
    return None


def make_row(svc: Any, register: str, anchors: dict[str, Any] | None = None, **system: Any) -> Any:
    """Insert a row of ``register`` (as the system) with valid values; ``anchors`` override fields,
    ``system`` sets created_by_id / organisation_id. Required references get a row of their own."""
    spec = svc.registry.register(register)
    anchors = dict(anchors or {})
    n = next(_counter)
    row = svc.models[register]()
    for field in spec.stored_fields:
        if field.type == "reference":
            if field.name in anchors:
                setattr(row, field.name, anchors[field.name])
            elif field.required:
                setattr(row, field.name, make_row(svc, field.target))
            continue
        if not field.required and field.name not in anchors:
            continue
        setattr(row, field.name, value_for(svc, spec, field, n, anchors))
    for key, value in system.items():
        setattr(row, key, value)
    svc.session.add(row)
    svc.session.commit()
    return row


def make_org(svc: Any, region: str = HOME_REGION, department: str | None = HOME_DEPARTMENT) -> Any:
    org = svc.registry.organisations
    return make_row(svc, org.target, {org.region: region, org.department: department, org.level: "county"})


def make_user(app: Any, role: str, organisation: Any = None, enterprise_key: str | None = None) -> Any:
    sm = app.appbuilder.sm
    name = f"{role}_{next(_counter)}"
    if enterprise_key:
        user = sm.find_user(username=enterprise_key)
        if user is not None:  # the engine made it with the enterprise row
            from werkzeug.security import generate_password_hash
            user.password = generate_password_hash(PASSWORD)
            user.must_change_password = False
            sm.session.commit()
            return user
    user = sm.add_user(name, name, "", f"{name}@test.invalid", sm.find_role(role), PASSWORD)
    assert user, f"could not create {name}"
    user.organisation_id = organisation.id if organisation is not None else None
    user.enterprise_key = enterprise_key
    sm.session.commit()
    return user


def ids_of(svc: Any, register: str) -> set[int]:
    model = svc.models[register]
    return set(svc.session.scalars(select(model.id).execution_options(include_all_rows=True)))


def first_password(app: Any, login: str) -> str:
    """The first password of a new or reset account, as the server computes it (its administrator is shown it)."""
    from app.security.passwords import default_password
    with app.app_context():
        return default_password(login)
