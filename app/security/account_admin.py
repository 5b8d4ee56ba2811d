"""账号管理, the one account screen: the accounts an administrator manages (roles.yaml `accounts`; the system
administrator: every account), searched and filtered, roles by their labels; add, edit, reset, enable/disable.
FAB's own user, role and permission screens are out of the menu and lead here (see fab_admin_screens)."""
from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from flask import abort, current_app, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import func, or_, select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from app.records import scoped_get
from app.query.urls import register_url

from . import account_import
from .accounts import manageable, may_manage, may_reset_enterprise, new_account, reset_password
from .actor import current_actor
from .models import AppUser
from .passwords import FIRST_MARK, LEGACY_DEFAULT_MARK, PENDING_MARK, first_password_expiry, first_password_state
from .views import _Form, role_label

PAGE_SIZE = 50
NO_ORGANISATION = 0


class AccountForm(_Form):
    username = StringField(_l("Login name"), validators=[
        DataRequired(message=_l("This field is required.")), Length(max=64),
        Regexp(r"^[A-Za-z0-9_.@-]+$", message=_l("Letters, digits and . _ - @ only."))])
    first_name = StringField(_l("Name"), validators=[DataRequired(message=_l("This field is required.")),
                                                     Length(max=64)])
    mobile = StringField(_l("Mobile"), validators=[Regexp(r"^(1[3-9]\d{9})?$",
                                                          message=_l("Not a valid mobile number: 11 digits starting with 1."))])
    organisation = SelectField(_l("Organisation"), coerce=int, validate_choice=True)
    role = SelectField(_l("Role"), validate_choice=True)


class AccountView(BaseView):
    """Accounts of the organisations an administrator manages (roles.yaml `accounts`), nothing else; the system
    administrator sees and manages every account, enterprise accounts included."""

    route_base = "/accounts"
    default_view = "list"
    class_permission_name = "accounts"
    method_permission_name = {"list": "list", "add": "add", "edit": "edit", "reset": "edit", "toggle": "edit",
                              "enterprise_reset": "reset_enterprise", "enterprise_first_passwords": "reset_enterprise",
                              "import_page": "add", "import_template": "add", "stats": "list"}

    def _pairs(self) -> dict[int, set[str]]:
        return manageable(current_actor())

    def _organisations(self, ids: list[int]) -> dict[int, Any]:
        svc = current_app.extensions["safety"]
        model = svc.models[svc.registry.organisations.target]
        rows = svc.session.scalars(select(model).where(model.id.in_(ids))
                                   .execution_options(unscoped_reason="organisations the actor manages"))
        return {row.id: row for row in rows}

    def _role_choices(self, pairs: dict[int, set[str]], for_form: bool) -> list[tuple[str, str]]:
        registry = current_app.extensions["safety"].registry
        names = sorted({r for names in pairs.values() for r in names if r in registry.roles})
        if for_form:  # enterprise accounts are made with their enterprise rows, never opened by hand
            names = [r for r in names if registry.roles[r].kind != "enterprise"]
        choices = [(r, role_label(r)) for r in names]
        if current_actor().is_admin:
            choices.append((current_app.config["AUTH_ROLE_ADMIN"], role_label(current_app.config["AUTH_ROLE_ADMIN"])))
        return choices

    @expose("/")
    @has_access
    def list(self) -> Any:
        actor = current_actor()
        pairs = self._pairs()
        stmt = select(AppUser)
        if not actor.is_admin:
            stmt = stmt.where(AppUser.organisation_id.in_(list(pairs) or [-1]))
        args = request.args
        if text := args.get("q", "").strip():
            pattern = f"%{text}%"
            stmt = stmt.where(or_(AppUser.username.ilike(pattern), AppUser.first_name.ilike(pattern)))
        if role := args.get("role"):
            stmt = stmt.where(AppUser.roles.any(Role.name == role))
        if (org := args.get("organisation", type=int)) is not None:
            stmt = stmt.where(AppUser.organisation_id == org)
        if args.get("active") in ("1", "0"):
            stmt = stmt.where(AppUser.active.is_(args["active"] == "1"))
        session = self.appbuilder.sm.session
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, args.get("page", 1, type=int)), pages)
        # the organisations' accounts first, then the (many) enterprise accounts
        users = session.scalars(stmt.order_by(AppUser.enterprise_key.isnot(None), AppUser.id)
                                .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        orgs = self._organisations(list(pairs))
        return self.render_template(
            "account/list.html", users=users, orgs=orgs, total=total, page=page, pages=pages,
            role_choices=self._role_choices(pairs, for_form=False),
            org_choices=sorted(((i, str(o)) for i, o in orgs.items()), key=lambda pair: pair[1]),
            roles_of=lambda u: [role_label(r.name) for r in u.roles if r.name != current_app.config["AUTH_ROLE_PUBLIC"]],
            can_manage=lambda u: may_manage(actor, u), page_url=lambda n: url_for(".list", **{**args.to_dict(), "page": n}))

    def _form(self, obj: Any = None) -> AccountForm:
        pairs = self._pairs()
        orgs = self._organisations(list(pairs))
        form = AccountForm(obj=obj)
        form.organisation.choices = [(i, str(orgs[i])) for i in sorted(orgs, key=lambda i: str(orgs[i]))]
        if current_actor().is_admin:
            form.organisation.choices.insert(0, (NO_ORGANISATION, "—"))
        form.role.choices = self._role_choices(pairs, for_form=True)
        return form

    def _role_problem(self, form: AccountForm) -> str | None:
        """Why the chosen role may not be given in the chosen organisation, or None."""
        if form.role.data == current_app.config["AUTH_ROLE_ADMIN"]:
            return None if current_actor().is_admin else gettext("You may not give this role in this organisation.")
        if form.organisation.data == NO_ORGANISATION:
            return gettext("Choose the organisation of this account.")
        if form.role.data not in self._pairs().get(form.organisation.data, set()):
            return gettext("You may not give this role in this organisation.")
        return None

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> Any:
        form = self._form()
        if request.method == "POST" and form.validate():
            sm = self.appbuilder.sm
            if problem := self._role_problem(form):
                form.role.errors = [problem]
            elif sm.find_user(username=form.username.data):
                form.username.errors = [gettext("This login name is taken.")]
            else:
                user, password = new_account(form.username.data, form.first_name.data, form.role.data,
                                             form.organisation.data or None)
                sm.session.add(user)
                sm.session.commit()
                flash(gettext("Account %(login)s created; first password: %(password)s (shown only now; to be "
                              "changed at the first login).", login=user.username, password=password), "success")
                return redirect(url_for(".list"))
        return self.render_template("account/form.html", form=form, editing=None)

    def _import_choices(self) -> tuple[dict[str, int], dict[str, str], dict[int, set[str]]]:
        """What the template offers and the import accepts: organisation names → ids (a name two organisations
        share gets its id), role labels → names, and the roles allowed in each organisation."""
        pairs = self._pairs()
        orgs = self._organisations(list(pairs))
        names = [str(o) for o in orgs.values()]
        organisations = {(str(o) if names.count(str(o)) == 1 else f"{o}（{i}）"): i for i, o in orgs.items()}
        registry = current_app.extensions["safety"].registry
        roles = {role_label(r): r for names_ in pairs.values() for r in names_
                 if r in registry.roles and registry.roles[r].kind != "enterprise"}
        return dict(sorted(organisations.items())), roles, pairs

    @expose("/import", methods=["GET", "POST"])
    @has_access
    def import_page(self) -> Any:
        """账号批量导入: the template, the upload, the problems by row and column, or the accounts made with their
        first passwords (shown only on this page)."""
        organisations, roles, pairs = self._import_choices()
        outcome = None
        if request.method == "POST":
            upload = request.files.get("file")
            data = upload.read(account_import.MAX_BYTES + 1) if upload else b""
            outcome = account_import.import_accounts(data, organisations, roles, pairs) if data else \
                account_import.Outcome(refused=gettext("Choose the filled workbook first."))
        names = {i: name for name, i in organisations.items()}
        return self.render_template("account/import.html", outcome=outcome, organisations=names,
                                    role_label=role_label, max_rows=account_import.MAX_ROWS)

    @expose("/import/template.xlsx")
    @has_access
    def import_template(self) -> Any:
        organisations, roles, _pairs = self._import_choices()
        return send_file(account_import.template(list(organisations), sorted(roles)), as_attachment=True,
                         download_name=gettext("account import template") + ".xlsx", mimetype=account_import.XLSX)

    @expose("/stats")
    @has_access
    def stats(self) -> Any:
        """账号统计 of the organisations the actor manages (the system administrator: every account)."""
        actor = current_actor()
        pairs = self._pairs()
        lines = account_import.statistics(None if actor.is_admin else list(pairs))
        orgs = self._organisations([line["organisation"] for line in lines if line["organisation"] > 0])
        for line in lines:
            line["name"] = (str(orgs[line["organisation"]]) if line["organisation"] in orgs else
                            gettext("Enterprise accounts") if line["organisation"] == -1 else
                            gettext("Without organisation"))
        lines.sort(key=lambda line: (line["organisation"] <= 0, line["name"]))
        totals = {k: sum(line[k] for line in lines) for k in ("total", "enabled", "disabled", "never", "recent")}
        return self.render_template("account/stats.html", lines=lines, totals=totals)

    @expose("/<int:user_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, user_id: int) -> Any:
        """Name, organisation and role of an organisation's account (an enterprise account follows its rows)."""
        user = self._user(user_id)
        if user.enterprise_key:
            abort(404)
        form = self._form()
        if request.method == "GET":
            form.first_name.data = user.first_name
            form.organisation.data = user.organisation_id or NO_ORGANISATION
            form.role.data = user.roles[0].name if user.roles else None
        form.username.data = user.username  # shown, not changed: the login is the account's identity
        if request.method == "POST" and form.validate():
            if problem := self._role_problem(form):
                form.role.errors = [problem]
            elif user.id == g.user.id and form.role.data != (user.roles[0].name if user.roles else None):
                form.role.errors = [gettext("You may not change the role of your own account.")]
            else:
                user.first_name = form.first_name.data
                user.organisation_id = form.organisation.data or None
                user.roles = [self.appbuilder.sm.find_role(form.role.data)]
                self.appbuilder.sm.session.commit()
                flash(gettext("Account %(login)s saved.", login=user.username), "success")
                return redirect(url_for(".list"))
        return self.render_template("account/form.html", form=form, editing=user)

    def _user(self, user_id: int) -> AppUser:
        user = self.appbuilder.sm.session.get(AppUser, user_id)
        if user is None:
            abort(404)
        if not may_manage(current_actor(), user):
            abort(403)
        return user

    def _back(self) -> Any:
        """Back to the list as the user left it (search, filters, page)."""
        back = request.form.get("next", "")
        return redirect(back if back.startswith("/accounts/") and "//" not in back else url_for(".list"))

    @expose("/<int:user_id>/reset", methods=["POST"])
    @has_access
    def reset(self, user_id: int) -> Any:
        user = self._user(user_id)
        password = reset_password(user)
        self.appbuilder.sm.session.commit()
        flash(gettext("The password of %(login)s is reset to %(password)s (shown only now; valid for %(days)s days); it "
                      "must be changed at the next login.", days=current_app.config["FIRST_PASSWORD_DAYS"],
                      login=user.username, password=password), "success")
        return self._back()

    @expose("/<int:user_id>/toggle", methods=["POST"])
    @has_access
    def toggle(self, user_id: int) -> Any:
        user = self._user(user_id)
        if user.id == g.user.id:
            abort(400)
        user.active = not user.active
        self.appbuilder.sm.session.commit()
        flash((gettext("Account %(login)s enabled.", login=user.username) if user.active else
               gettext("Account %(login)s disabled: it can no longer sign in.", login=user.username)), "success")
        return self._back()

    @expose("/enterprise/first-passwords.xlsx", methods=["POST"])
    @has_access
    def enterprise_first_passwords(self) -> Any:
        """First passwords for the accounts of the enterprises the actor may edit that have none yet (new accounts,
        an import's) or whose first password expired: issued now, handed over in this workbook and shown nowhere
        else — only their hashes are kept. Passwords issued earlier and still valid are left as they are."""
        svc = current_app.extensions["safety"]
        config = svc.registry.enterprise_accounts
        if config is None:
            abort(404)
        actor = current_actor()
        if actor.enterprise_key:
            abort(403)
        spec = svc.registry.register(config.target)
        model = svc.models[config.target]
        login = getattr(model, config.login)
        waiting = or_(AppUser.password.in_((PENDING_MARK, LEGACY_DEFAULT_MARK)), AppUser.password.like(FIRST_MARK + "%"))
        stmt = (select(getattr(model, spec.title_field), AppUser).join(AppUser, AppUser.username == login)
                .where(waiting).order_by(model.id))
        condition = current_app.extensions["safety_policy"].write_condition(spec, actor, "edit")
        if condition is not None:
            stmt = stmt.where(condition)
        rows = svc.session.execute(stmt.execution_options(unscoped_reason="write scope in the condition")).all()
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
        sheet = workbook.add_worksheet(gettext("First passwords"))
        bold = workbook.add_format({"bold": True})
        sheet.write_row(0, 0, [gettext("Enterprise"), gettext("Login name"), gettext("First password"),
                               gettext("Valid until")], bold)
        seen = set()
        for name, user in rows:
            if user.username in seen or first_password_state(user.password) == "issued":
                continue  # rows with the same code share one account; a valid first password stays valid
            seen.add(user.username)
            password = reset_password(user)
            sheet.write_row(len(seen), 0, [name, user.username, password, first_password_expiry(user.password)
                                           .strftime("%Y-%m-%d %H:%M")])
        self.appbuilder.sm.session.commit()
        sheet.set_column(3, 3, 18)
        sheet.set_column(0, 0, 40)
        sheet.set_column(1, 2, 22)
        workbook.close()
        buffer.seek(0)
        return send_file(buffer, as_attachment=True, download_name=gettext("enterprise first passwords") + ".xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @expose("/enterprise/<int:row_id>/reset", methods=["POST"])
    @has_access
    def enterprise_reset(self, row_id: int) -> Any:
        """Reset the account of an enterprise row the actor may edit (the button on the enterprise's page)."""
        svc = current_app.extensions["safety"]
        config = svc.registry.enterprise_accounts
        if config is None:
            abort(404)
        model = svc.models[config.target]
        row = scoped_get(svc.session, model, row_id)  # an enterprise outside the jurisdiction is not found
        if row is None:
            abort(403 if svc.session.execute(select(model.id).where(model.id == row_id)
                                              .execution_options(unscoped_reason="403 or 404")).first() else 404)
        login = getattr(row, config.login)
        if not may_reset_enterprise(current_actor(), login):
            abort(403)
        user = self.appbuilder.sm.find_user(username=login)
        if user is None:
            abort(404)
        password = reset_password(user)
        self.appbuilder.sm.session.commit()
        flash(gettext("The password of %(login)s is reset to %(password)s (shown only now; valid for %(days)s days); it "
                      "must be changed at the next login.", days=current_app.config["FIRST_PASSWORD_DAYS"],
                      login=login, password=password), "success")
        return redirect(register_url(config.target, "show", pk=row_id))
