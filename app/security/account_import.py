"""账号批量导入 and 账号统计 for 账号管理: an administrator adds the accounts of the organisations it manages from a
workbook (the template lists exactly the organisations and roles it may give), checked row by row like the add
form and written all together or not at all; the first passwords are shown once, on the page that follows. The statistics
count the accounts of those organisations: enabled, disabled, never signed in, signed in within 30 days."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import case, func, select

from .models import AppUser
from .accounts import new_account

MAX_ROWS = 2000
MAX_BYTES = 2 * 1024 * 1024
LOGIN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def columns() -> list[str]:
    return [gettext("Login name"), gettext("Name"), gettext("Organisation"), gettext("Role")]


def template(organisations: list[str], roles: list[str]) -> io.BytesIO:
    """The workbook to fill: the four columns, 填写说明, and drop-downs of the organisations and roles allowed."""
    import xlsxwriter  # on first use: the writers cost every process's start
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    sheet = book.add_worksheet(gettext("Accounts"))
    sheet.write_row(0, 0, columns(), bold)
    sheet.set_column(0, 1, 18)
    sheet.set_column(2, 2, 36)
    sheet.set_column(3, 3, 16)
    sheet.freeze_panes(1, 0)
    lists = book.add_worksheet("lists")
    lists.write_column(0, 0, organisations or [""])
    lists.write_column(0, 1, roles or [""])
    lists.hide()
    for col, count in ((2, len(organisations)), (3, len(roles))):
        letter = "AB"[col - 2]
        sheet.data_validation(1, col, MAX_ROWS, col, {
            "validate": "list", "source": f"=lists!${letter}$1:${letter}${max(count, 1)}",
            "error_title": gettext("Not in the list"),
            "error_message": gettext("Choose one of the values of the drop-down list.")})
    notes = book.add_worksheet(gettext("Instructions"))
    for row, text in enumerate([
            gettext("One account per row, from row 2 of the first sheet."),
            gettext("Login name: letters, digits and . _ - @ only; not used by another account."),
            gettext("Organisation and role: from the drop-down lists (the organisations you manage and the roles you "
                    "may give there)."),
            gettext("The whole file is checked first: if one row is wrong, no account is created."),
            gettext("The first passwords are shown once, on the page after the import; each must be changed at "
                    "the first login.")]):
        notes.write(row, 0, text)
    notes.set_column(0, 0, 100)
    book.close()
    buffer.seek(0)
    return buffer


@dataclass
class Outcome:
    problems: list[tuple[int, str, str]] = field(default_factory=list)   # (row, column title, message)
    created: list[tuple[AppUser, str]] = field(default_factory=list)      # the account, its first password
    refused: str | None = None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_rows(data: bytes) -> tuple[list[tuple[int, list[str]]], str | None]:
    """(row number, four texts) of the filled rows of the first sheet, or why the file cannot be read."""
    import openpyxl  # on first use: 0.4 s of every start
    if len(data) > MAX_BYTES:
        return [], gettext("The file is larger than %(size)s MB.", size=MAX_BYTES // (1024 * 1024))
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # any damage: openpyxl raises many kinds
        return [], gettext("This is not an .xlsx workbook, or it is damaged.")
    sheet = book.worksheets[0]
    rows = []
    for number, values in enumerate(sheet.iter_rows(min_row=2, max_col=4, values_only=True), start=2):
        texts = [_text(v) for v in (list(values) + [None] * 4)[:4]]
        if any(texts):
            rows.append((number, texts))
        if len(rows) > MAX_ROWS:
            return [], gettext("The file has more than %(n)s accounts; split it.", n=MAX_ROWS)
    book.close()
    return rows, None


def import_accounts(data: bytes, organisations: dict[str, int], roles: dict[str, str],
                    allowed: dict[int, set[str]]) -> Outcome:
    """Check every row (organisation and role by their names as the template lists them, the role allowed in that
    organisation); create every account only when no row has a problem."""
    sm = current_app.appbuilder.sm
    outcome = Outcome()
    rows, refused = read_rows(data)
    if refused:
        outcome.refused = refused
        return outcome
    if not rows:
        outcome.refused = gettext("The first sheet has no accounts below its titles.")
        return outcome
    titles = columns()
    logins = [texts[0] for _n, texts in rows]
    taken = {u.lower() for u in sm.session.scalars(select(AppUser.username).where(
        func.lower(AppUser.username).in_([login.lower() for login in logins if login])))}
    first_row: dict[str, int] = {}
    checked = []
    for number, (login, name, organisation, role) in rows:
        problems = []
        if not login:
            problems.append((titles[0], gettext("This field is required.")))
        elif not LOGIN.match(login):
            problems.append((titles[0], gettext("Letters, digits and . _ - @ only.")))
        elif login.lower() in taken:
            problems.append((titles[0], gettext("This login name is taken.")))
        elif login.lower() in first_row:
            problems.append((titles[0], gettext("Same login name as row %(row)s.", row=first_row[login.lower()])))
        else:
            first_row[login.lower()] = number
        if not name:
            problems.append((titles[1], gettext("This field is required.")))
        elif len(name) > 64:
            problems.append((titles[1], gettext("At most %(n)s characters.", n=64)))
        org_id = organisations.get(organisation)
        if not organisation:
            problems.append((titles[2], gettext("This field is required.")))
        elif org_id is None:
            problems.append((titles[2], gettext("'%(value)s' is not an organisation you manage.", value=organisation)))
        role_name = roles.get(role)
        if not role:
            problems.append((titles[3], gettext("This field is required.")))
        elif role_name is None:
            problems.append((titles[3], gettext("'%(value)s' is not a role you may give.", value=role)))
        elif org_id is not None and role_name not in allowed.get(org_id, set()):
            problems.append((titles[3], gettext("You may not give this role in this organisation.")))
        outcome.problems += [(number, column, message) for column, message in problems]
        checked.append((login, name, org_id, role_name))
    if outcome.problems:
        return outcome
    for login, name, org_id, role_name in checked:
        user, password = new_account(login, name, role_name, org_id)
        sm.session.add(user)
        outcome.created.append((user, password))
    sm.session.commit()
    return outcome


def statistics(organisation_ids: list[int] | None) -> list[dict[str, Any]]:
    """Per organisation (None: every account, by organisation, enterprise accounts as one line): accounts,
    enabled, disabled, never signed in, signed in within the last 30 days."""
    sm = current_app.appbuilder.sm
    recent = datetime.now() - timedelta(days=30)
    key = case((AppUser.enterprise_key.isnot(None), -1), else_=func.coalesce(AppUser.organisation_id, 0))
    stmt = select(key.label("organisation"), func.count(),
                  func.sum(case((AppUser.active.is_(True), 1), else_=0)),
                  func.sum(case((AppUser.last_login.is_(None), 1), else_=0)),
                  func.sum(case((AppUser.last_login >= recent, 1), else_=0))).group_by(key)
    if organisation_ids is not None:
        stmt = stmt.where(AppUser.organisation_id.in_(organisation_ids or [-2]), AppUser.enterprise_key.is_(None))
    lines = []
    for organisation, total, enabled, never, recent_count in sm.session.execute(stmt):
        lines.append({"organisation": organisation, "total": total, "enabled": enabled or 0,
                      "disabled": total - (enabled or 0), "never": never or 0, "recent": recent_count or 0})
    return lines
