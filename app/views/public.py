"""Forms open to people who are not signed in (a register's `public` option): an enterprise registers itself
(003) and the regulator of its region approves it through the register's workflow. Only the declared fields are
on the form; the row starts in the workflow's initial state like any other; nothing else is reachable."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.widgets import FormWidget
from flask_babel import gettext as _

from app.i18n import label_text
from app.services import services
from app.workflow import guard

from .forms import build_form
from .form_page import form_context
from .register_view import form_fieldsets


class PublicFormWidget(FormWidget):
    template = "register/form_widget.html"


def public_registers() -> list[Any]:
    return [spec for spec in services().registry.registers.values() if spec.public is not None]


def public_dictionaries() -> set[str]:
    """Dictionaries the public forms' pickers need without an account."""
    names = set()
    for spec in public_registers():
        for name in spec.public.fields:
            dictionary = getattr(spec.field(name), "dictionary", None)
            if dictionary:
                names.add(dictionary)
    return names


class PublicFormView(BaseView):
    route_base = "/public"
    default_view = "index"

    def _spec(self, register: str) -> Any:
        spec = services().registry.registers.get(register)
        if spec is None or spec.public is None:
            abort(404)
        return spec

    @expose("/")
    def index(self) -> Any:
        return self.render_template("public/index.html", forms=[
            {"title": label_text(s.public.title), "intro": label_text(s.public.intro),
             "url": url_for("PublicFormView.form", register=s.name)} for s in public_registers()])

    @expose("/<register>", methods=["GET", "POST"])
    def form(self, register: str) -> Any:
        spec = self._spec(register)
        svc = services()
        form = build_form(spec, svc, spec.public.fields)()
        if request.method == "POST" and form.validate():
            row = svc.models[spec.name]()
            form.populate_obj(row)
            # written by the public form itself: no account's permission applies, the row scope of the
            # regulators who will see it is its region
            guard.authorise(svc.session, row, None)
            svc.session.add(row)
            svc.session.commit()
            return redirect(url_for("PublicFormView.done", register=spec.name, row_id=row.id))
        fieldsets = form_fieldsets(spec, spec.public.fields)
        widget = PublicFormWidget(form=form, fieldsets=fieldsets, exclude_cols=[],
                                  submit_label=label_text(spec.public.submit) if spec.public.submit
                                  else _("Send the application"), **form_context(form, fieldsets))
        title = label_text(spec.public.title)
        return self.render_template("public/form.html", spec=spec, widget=widget, title=title, page_crumb=title,
                                    intro=label_text(spec.public.intro))

    @expose("/<register>/done/<int:row_id>")
    def done(self, register: str, row_id: int) -> Any:
        spec = self._spec(register)
        title = label_text(spec.public.title)
        return self.render_template("public/done.html", title=title, page_crumb=title, row_id=row_id,
                                    message=label_text(spec.public.done))


def limit_public_forms(appbuilder: Any, view: PublicFormView) -> None:
    """At most PUBLIC_FORM_RATE_LIMIT sends per address: the form is open to anyone, and each send is a row a
    regulator must review. Over the limit, the sender gets a page that says when to try again (HTTP 429, drawn by
    app/views/errors.py)."""
    limiter = appbuilder.sm.limiter
    limiter.limit(lambda: current_app.config["PUBLIC_FORM_RATE_LIMIT"], methods=["POST"])(view.blueprint)
