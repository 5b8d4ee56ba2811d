"""Every user's own account: 个人中心 and the password change (forced at first login); FAB's own account,
user, role and permission screens lead to ours; idle sessions end."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.forms import DynamicForm
from flask_babel import gettext, lazy_gettext as _l
from flask_login import logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from app.i18n import label_text, list_separator
from app.views.forms import _TranslatedMeta

from .passwords import is_default_password, password_problem
from .tokens import VALIDITY_DAYS, create_token, revoke, tokens_of


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
    def info(self, new_token: str | None = None) -> Any:
        user = g.user
        if user is None or not user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        return self.render_template("account/info.html", user=user, details=account_details(user),
                                    tokens=tokens_of(user.id), token_days=VALIDITY_DAYS, new_token=new_token,
                                    now=datetime.now())

    @expose("/tokens", methods=["POST"])
    def create_token(self) -> Any:
        """A new API token for this account, shown once on the page that answers."""
        user = g.user
        if user is None or not user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        name = (request.form.get("name") or "").strip()
        days = int(request.form.get("days", "0")) if request.form.get("days", "").isdigit() else 0
        if not name or days not in VALIDITY_DAYS:
            flash(gettext("Give the token a name and a validity."), "danger")
            return redirect(url_for(".info"))
        return self.info(new_token=create_token(user.id, name, days))

    @expose("/tokens/<int:token_id>/revoke", methods=["POST"])
    def revoke_token(self, token_id: int) -> Any:
        user = g.user
        if user is None or not user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        if revoke(user.id, token_id):
            flash(gettext("The token is revoked: requests sent with it are refused from now on."), "success")
        else:
            flash(gettext("No such token of yours."), "danger")
        return redirect(url_for(".info"))

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
                from app.setup import forget_first_password  # app.setup imports the engine: not at import time
                forget_first_password(current_app, user.username)
                flash(gettext("Your password has been changed."), "success")
                return redirect(self.appbuilder.get_url_for_index)
        return self.render_template("account/password.html", form=form, forced=user.must_change_password)


def role_label(name: str) -> str:
    """A role as users name it: its label in roles.yaml; FAB's administrator role as 系统管理员."""
    registry = current_app.extensions["safety"].registry
    if name in registry.roles:
        return label_text(registry.roles[name].label)
    if name == current_app.config["AUTH_ROLE_ADMIN"]:
        return gettext("System administrator")
    return name


def account_details(user: Any) -> list[tuple[str, str]]:
    """What 个人信息 shows of an account: (label, text) pairs, the organisation or enterprise by its name."""
    svc = current_app.extensions["safety"]
    registry = svc.registry
    roles = list_separator().join(role_label(r.name) for r in user.roles if r.name != current_app.config["AUTH_ROLE_PUBLIC"])
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
# FAB's administration screens (English help, role names, "True"/"None" cells): 账号管理 replaces them all
FAB_ADMIN_SCREENS = ("userdbmodelview", "rolemodelview", "groupmodelview", "permissionmodelview",
                     "viewmenumodelview", "permissionviewmodelview", "userstatschartview", "registerusermodelview",
                     "resetpasswordview")
FAB_SECURITY_CATEGORY = "Security"


def fab_admin_screens(sm: Any) -> set[str]:
    """The class names (endpoint prefixes) of FAB's user, role and permission screens."""
    return {getattr(sm, name).__name__ for name in FAB_ADMIN_SCREENS if getattr(sm, name, None) is not None}


def drop_fab_security_menu(appbuilder: Any) -> None:
    """FAB's 用户权限 category leaves the menu (its views stay registered, so FAB's security keeps working)."""
    appbuilder.menu.menu = [item for item in appbuilder.menu.menu if item.name != FAB_SECURITY_CATEGORY]


def own_account_pages() -> Any:
    """Before each request: FAB's userinfo and reset-my-password pages lead to 个人中心 and 修改密码, its user,
    role and permission screens to 账号管理 (nothing of them runs, whatever the method)."""
    endpoint = request.endpoint or ""
    target = FAB_ACCOUNT_PAGES.get(endpoint)
    if target is None and endpoint.split(".", 1)[0] in fab_admin_screens(current_app.appbuilder.sm):
        target = "AccountView.list"
    return redirect(url_for(target)) if target else None


ALWAYS_ALLOWED = {"PasswordView.password", "AuthDBView.logout", "AuthDBView.login", "static", "appbuilder.static",
                  "LocaleView.index"}
#: the idle clock (`_seen`) is written at most this often: a response that writes the session carries the whole
#: cookie as its request read it, and one answered late (two tabs, a page's own requests) puts that back
SEEN_EVERY_SECONDS = 60


def _is_asset(endpoint: str | None) -> bool:
    """A file the browser fetches by itself (styles, scripts, images, the icon): it never touches the session."""
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static") or endpoint == "favicon")


def enforce_session_rules() -> Any:
    """Before each request: idle sessions end; an account that must change its password goes there first."""
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False) or _is_asset(request.endpoint):
        return None
    now = datetime.now().timestamp()
    last = session.get("_seen")
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    if last and now - last > idle:
        logout_user()
        session.clear()
        flash(gettext("You were signed out after %(n)s minutes without activity.",
                      n=current_app.config["SESSION_IDLE_MINUTES"]), "warning")
        # back to the page after signing in again; a form that was being saved opens again (its values are kept
        # by the browser, app/static/js/form.js)
        back = request.full_path if request.method == "GET" else request.path
        return redirect(url_for("AuthDBView.login", next=back))
    if not last or now - last >= SEEN_EVERY_SECONDS:
        session["_seen"] = now
    if not session.permanent:
        session.permanent = True
    if getattr(user, "must_change_password", False) and request.endpoint not in ALWAYS_ALLOWED:
        return redirect(url_for("PasswordView.password"))
    return None
