"""Account screens: change my password (forced at first login), accounts an administrator manages, resets."""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import xlsxwriter
from flask import abort, current_app, flash, g, redirect, request, send_file, session, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.forms import DynamicForm
from flask_babel import gettext, lazy_gettext as _l
from flask_login import logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from app.i18n import label_text, list_separator
from app.records import scoped_get
from app.views.urls import register_url
from app.views.forms import _TranslatedMeta

from .accounts import manageable, may_manage, may_reset_enterprise, reset_password
from .actor import current_actor
from .models import AppUser
from .passwords import (DEFAULT_PASSWORD_MARK, default_password, default_password_hash, is_default_password,
                        password_problem)


class _Form(DynamicForm):
    Meta = type("Meta", (_TranslatedMeta, DynamicForm.Meta), {})


class PasswordForm(_Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired(message=_l("This field is required."))])
    new = PasswordField(_l("New password"), validators=[DataRequired(message=_l("This field is required."))])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(message=_l("This field is required.")),
        EqualTo("new", message=_l("The two new passwords differ."))])


class PasswordView(BaseView):
    """Every signed-in user's own account (个人信息) and its password change; new and reset accounts are sent to
    the password change first. FAB's own userinfo and reset-my-password pages lead here (see own_account_pages)."""

    route_base = "/account"
    default_view = "info"

    @expose("/")
    def info(self) -> Any:
        user = g.user
        if user is None or not user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        return self.render_template("account/info.html", user=user, details=account_details(user))

    @expose("/password", methods=["GET", "POST"])
    def password(self) -> Any:
        user = g.user
        if user is None or not user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        form = PasswordForm()
        if request.method == "POST" and form.validate():
            default = is_default_password(user.password, user.username, form.current.data)
            if default is False or (default is None and not check_password_hash(user.password, form.current.data)):
                form.current.errors = [gettext("The current password is wrong.")]
            elif form.new.data == form.current.data:
                form.new.errors = [gettext("Choose a password other than the current one.")]
            elif problem := password_problem(form.new.data, user.username):
                form.new.errors = [problem]
            else:
                user.password = generate_password_hash(form.new.data)
                user.must_change_password = False
                user.password_changed_at = datetime.now()
                self.appbuilder.sm.session.commit()
                flash(gettext("Your password has been changed."), "success")
                return redirect(self.appbuilder.get_url_for_index)
        return self.render_template("account/password.html", form=form, forced=user.must_change_password)


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
    """Accounts of the organisations an administrator manages (roles.yaml `accounts`), nothing else."""

    route_base = "/accounts"
    default_view = "list"
    class_permission_name = "accounts"
    method_permission_name = {"list": "list", "add": "add", "reset": "edit", "toggle": "edit",
                              "enterprise_reset": "reset_enterprise", "enterprise_first_passwords": "reset_enterprise"}

    def _pairs(self) -> dict[int, set[str]]:
        return manageable(current_actor())

    def _organisations(self, ids: list[int]) -> dict[int, Any]:
        svc = current_app.extensions["safety"]
        model = svc.models[svc.registry.organisations.target]
        rows = svc.session.scalars(select(model).where(model.id.in_(ids))
                                   .execution_options(unscoped_reason="organisations the actor manages"))
        return {row.id: row for row in rows}

    @expose("/")
    @has_access
    def list(self) -> Any:
        pairs = self._pairs()
        users = self.appbuilder.sm.session.scalars(
            select(AppUser).where(AppUser.organisation_id.in_(list(pairs) or [-1])).order_by(AppUser.id)).all()
        orgs = self._organisations(list(pairs))
        registry = current_app.extensions["safety"].registry
        role_labels = {name: label_text(role.label) for name, role in registry.roles.items()}
        return self.render_template("account/list.html", users=users, orgs=orgs,
                                    roles_of=lambda u: list_separator().join(role_labels.get(r.name, r.name) for r in u.roles),
                                    can_manage=lambda u: may_manage(current_actor(), u))

    def _form(self) -> AccountForm:
        pairs = self._pairs()
        orgs = self._organisations(list(pairs))
        registry = current_app.extensions["safety"].registry
        form = AccountForm()
        form.organisation.choices = [(i, str(orgs[i])) for i in sorted(orgs, key=lambda i: str(orgs[i]))]
        roles = sorted({r for names in pairs.values() for r in names})
        # enterprise accounts are made with their enterprise rows, never opened by hand in an organisation
        form.role.choices = [(r, label_text(registry.roles[r].label)) for r in roles
                             if r in registry.roles and registry.roles[r].kind != "enterprise"]
        return form

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> Any:
        form = self._form()
        if request.method == "POST" and form.validate():
            pairs = self._pairs()
            sm = self.appbuilder.sm
            if form.role.data not in pairs.get(form.organisation.data, set()):
                form.role.errors = [gettext("You may not give this role in this organisation.")]
            elif sm.find_user(username=form.username.data):
                form.username.errors = [gettext("This login name is taken.")]
            else:
                user = AppUser(username=form.username.data, first_name=form.first_name.data, last_name="",
                               email=f"{form.username.data.lower()}@accounts.invalid", active=True,
                               roles=[sm.find_role(form.role.data)], organisation_id=form.organisation.data,
                               must_change_password=True,
                               password=default_password_hash(form.username.data))
                sm.session.add(user)
                sm.session.commit()
                flash(gettext("Account %(login)s created; first password: %(password)s (to be changed at the "
                              "first login).", login=user.username, password=default_password(user.username)),
                      "success")
                return redirect(url_for(".list"))
        return self.render_template("account/form.html", form=form)

    def _user(self, user_id: int) -> AppUser:
        user = self.appbuilder.sm.session.get(AppUser, user_id)
        if user is None:
            abort(404)
        if not may_manage(current_actor(), user):
            abort(403)
        return user

    @expose("/<int:user_id>/reset", methods=["POST"])
    @has_access
    def reset(self, user_id: int) -> Any:
        user = self._user(user_id)
        password = reset_password(user)
        self.appbuilder.sm.session.commit()
        flash(gettext("The password of %(login)s is reset to %(password)s; it must be changed at the next login.",
                      login=user.username, password=password), "success")
        return redirect(url_for(".list"))

    @expose("/<int:user_id>/toggle", methods=["POST"])
    @has_access
    def toggle(self, user_id: int) -> Any:
        user = self._user(user_id)
        if user.id == g.user.id:
            abort(400)
        user.active = not user.active
        self.appbuilder.sm.session.commit()
        return redirect(url_for(".list"))

    @expose("/enterprise/first-passwords.xlsx")
    @has_access
    def enterprise_first_passwords(self) -> Any:
        """The enterprises the actor may edit whose account still has its first password: name, login and that
        password, as a workbook to hand them out (an import of 300 enterprises makes 300 accounts)."""
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
        stmt = (select(getattr(model, spec.title_field), AppUser.username).join(AppUser, AppUser.username == login)
                .where(AppUser.password == DEFAULT_PASSWORD_MARK).order_by(model.id))
        condition = current_app.extensions["safety_policy"].write_condition(spec, actor, "edit")
        if condition is not None:
            stmt = stmt.where(condition)
        rows = svc.session.execute(stmt.execution_options(unscoped_reason="write scope in the condition")).all()
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
        sheet = workbook.add_worksheet(gettext("First passwords"))
        bold = workbook.add_format({"bold": True})
        sheet.write_row(0, 0, [gettext("Enterprise"), gettext("Login name"), gettext("First password")], bold)
        seen = set()
        for name, username in rows:
            if username in seen:  # rows with the same code share one account
                continue
            seen.add(username)
            sheet.write_row(len(seen), 0, [name, username, default_password(username)])
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
        flash(gettext("The password of %(login)s is reset to %(password)s; it must be changed at the next login.",
                      login=login, password=password), "success")
        return redirect(register_url(config.target, "show", pk=row_id))


def account_details(user: Any) -> list[tuple[str, str]]:
    """What 个人信息 shows of an account: (label, text) pairs, the organisation or enterprise by its name."""
    svc = current_app.extensions["safety"]
    registry = svc.registry
    roles = list_separator().join(label_text(registry.roles[r.name].label) if r.name in registry.roles else r.name
                     for r in user.roles)
    details = [(gettext("Name"), user.get_full_name().strip()), (gettext("Login name"), user.username),
               (gettext("Role"), roles)]
    if user.organisation_id and registry.organisations:
        model = svc.models[registry.organisations.target]
        org = svc.session.get(model, user.organisation_id,
                              execution_options={"unscoped_reason": "the organisation of the signed-in account"})
        details.append((gettext("Organisation"), str(org) if org is not None else f"#{user.organisation_id}"))
    accounts = registry.enterprise_accounts
    if user.enterprise_key and accounts:
        model = svc.models[accounts.target]
        names = svc.session.scalars(select(getattr(model, accounts.name))
                                    .where(getattr(model, accounts.login) == user.enterprise_key)
                                    .order_by(model.id)
                                    .execution_options(unscoped_reason="the enterprise names of the signed-in account")).all()
        details.append((gettext("Enterprise"), list_separator().join(names) or user.enterprise_key))

    def when(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else gettext("Never")

    details += [(gettext("Last login"), when(user.last_login)), (gettext("Logins"), str(user.login_count or 0)),
                (gettext("Password changed"), when(user.password_changed_at)),
                (gettext("Account created"), when(user.created_on))]
    return details


# FAB's own account pages answer 403 to every role but the administrator's: everybody gets ours instead
FAB_ACCOUNT_PAGES = {"UserDBModelView.userinfo": "PasswordView.info", "UserInfoEditView.this_form_get": "PasswordView.info",
                     "UserInfoEditView.this_form_post": "PasswordView.info",
                     "ResetMyPasswordView.this_form_get": "PasswordView.password",
                     "ResetMyPasswordView.this_form_post": "PasswordView.password"}


def own_account_pages() -> Any:
    """Before each request: FAB's userinfo and reset-my-password pages lead to 个人信息 and 修改密码."""
    target = FAB_ACCOUNT_PAGES.get(request.endpoint or "")
    return redirect(url_for(target)) if target else None


ALWAYS_ALLOWED = {"PasswordView.password", "AuthDBView.logout", "AuthDBView.login", "static", "appbuilder.static",
                  "LocaleView.index"}


def enforce_session_rules() -> Any:
    """Before each request: idle sessions end; an account that must change its password goes there first."""
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    now = datetime.now().timestamp()
    last = session.get("_seen")
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    if last and now - last > idle:
        logout_user()
        session.clear()
        flash(gettext("You were signed out after %(n)s minutes without activity.",
                      n=current_app.config["SESSION_IDLE_MINUTES"]), "warning")
        return redirect(url_for("AuthDBView.login"))
    session["_seen"] = now
    session.permanent = True
    if getattr(user, "must_change_password", False) and request.endpoint not in ALWAYS_ALLOWED:
        return redirect(url_for("PasswordView.password"))
    return None
