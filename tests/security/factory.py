"""Rows and accounts for any register, built from its descriptor: valid values for every required field,
and the ownership anchors (region, department, enterprise, creator, organisation) set inside or outside
an actor's scope."""
from __future__ import annotations

import itertools
import random
import re
from datetime import date, timedelta
from typing import Any, Iterator

import rstr
from sqlalchemy import select
from stdnum import casrn
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
_regex_strings = rstr.Rstr(random.Random(11))
ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PRINTABLE = re.compile(r"[\x21-\x7e]+( [\x21-\x7e]+)*")
_used: dict[tuple[str, str], set[str]] = {}


def make_uscc() -> str:
    body = "91" + HOME_REGION + "".join(_random.choice(ORG_CHARS) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _named(field: Any) -> list[str]:
    """The named validators of a field, those listed in one_of included (any of them makes a valid value)."""
    names = [ref.name for ref in field.validators]
    for ref in field.validators:
        if ref.name == "one_of":
            names += list(ref.params)
    return names


def _regexes(field: Any) -> list[str]:
    return [ref.params if isinstance(ref.params, str) else ref.params["pattern"]
            for ref in field.validators if ref.name == "regex"]


def _candidates(field: Any, n: int) -> Iterator[str]:
    """Values built from ``n`` (different for every n), most readable first: what a validator's rule makes
    valid (check digits computed by python-stdnum), then plain text and numbers, then strings drawn from the
    field's regular expressions."""
    names = _named(field)
    if "uscc" in names:
        yield make_uscc()
    if "id_card" in names:
        born = (date(1985, 1, 1) + timedelta(days=n % 10000)).strftime("%Y%m%d")
        body = f"{HOME_REGION}{born}{n // 10000 % 1000:03d}"
        yield body + ric.calc_check_digit(body + "0")
    if "cas" in names:
        body = f"{100 + n}{n % 100:02d}"
        yield f"{body[:-2]}-{body[-2:]}-{casrn.calc_check_digit(body)}"
    if "plate" in field.name:  # 车牌号码: a regex with a Chinese first character
        yield f"苏D{n % 100000:05d}"
    if "mobile" in names or "phone" in names:
        yield f"139{n % 10 ** 8:08d}"
    if "phone" in names:
        yield f"0519-8{n % 10 ** 6:06d}"
    yield from (f"Sample {n}", f"GB {n}-2020", f"AQ/T {n}-2022", f"{n % 100000:05d}", f"{n % 10000:04d}",
                f"{n % 1000:03d}", f"X{n}")
    for pattern in _regexes(field):
        for _ in range(200):
            drawn = _regex_strings.xeger(pattern)
            if PRINTABLE.fullmatch(drawn):
                yield drawn


def unique_string(register: str, field: Any, n: int) -> str:
    """A value the field's validators accept, that fits its length and was never given to this field before:
    two rows of a register with a unique field (with a regex or a named validator) never collide."""
    from app.metadata.normalise import normalise
    used = _used.setdefault((register, field.name), set())
    for value in _candidates(field, n):
        value = normalise(field, value)  # as every path stores it (a key typed in a sheet is normalised too)
        if value not in used and len(value) <= (getattr(field, "length", None) or 255) \
                and not run_validators(field, value):
            used.add(value)
            return value
    raise AssertionError(f"no valid, unused value for {register}.{field.name}: add a generator for its validator")


def value_for(svc: Any, spec: Any, field: Any, n: int, anchors: dict[str, Any]) -> Any:
    if field.name in anchors:
        return anchors[field.name]
    match field.type:
        case "string":
            return unique_string(spec.name, field, n)
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
    # references with ``match`` last: the row they get agrees with this row's matched fields (the plan's checklist
    # is made for the plan's enterprise), as a user would have to choose it
    for field in sorted(spec.stored_fields, key=lambda f: bool(getattr(f, "match", None))):
        if field.type == "reference":
            if field.name in anchors:
                setattr(row, field.name, anchors[field.name])
            elif field.required:
                agreeing = {theirs: getattr(row, own) for theirs, own in getattr(field, "match", {}).items()
                            if getattr(row, own, None) is not None}
                setattr(row, field.name, make_row(svc, field.target, agreeing))
            continue
        if not field.required and not getattr(field, "unique", False) and field.name not in anchors:
            continue
        setattr(row, field.name, value_for(svc, spec, field, n, anchors))
    for key, value in system.items():
        setattr(row, key, value)
    svc.session.add(row)
    svc.session.commit()
    return row


def goods_classes(svc: Any) -> tuple[str, str]:
    """A goods class the home department oversees and one it does not (roles.yaml goods_classes)."""
    goods = svc.registry.goods_classes
    codes = [item.code for item in svc.registry.dictionaries[goods.dictionary].items]
    mine = goods.classes_of(HOME_DEPARTMENT)
    mine = set(codes) if mine is None else mine
    return next(c for c in codes if c in mine), next(c for c in codes if c not in mine)


def make_org(svc: Any, region: str = HOME_REGION, department: str | None = HOME_DEPARTMENT,
             level: str = "county") -> Any:
    org = svc.registry.organisations
    return make_row(svc, org.target, {org.region: region, org.department: department, org.level: level})


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
    """Issue a first password to the account ``login``, as its regulator does (the button on the enterprise's page
    or the workbook of the list), and return it: the only moment it is known."""
    from app.security.passwords import issue_first_password
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.find_user(username=login)
        password = issue_first_password(user)
        sm.session.commit()
        return password
