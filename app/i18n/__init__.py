"""The UI language of the current request, and YAML labels rendered in it."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask.globals import _cv_app
from flask_babel import LazyString, get_locale, get_translations

LOCALES = ("zh_Hans", "zh_Hant", "en")
DEFAULT_LOCALE = "zh_Hans"


def current_locale() -> str:
    """'zh_Hans', 'zh_Hant' or 'en' for the current request, or the locale a background job forces (the
    default outside both)."""
    if _cv_app.get(None) is None:
        return DEFAULT_LOCALE
    babel = _babel_namespace()
    cached = getattr(babel, "ui_locale", None)
    if cached is not None and cached[0] is getattr(babel, "babel_locale", None):
        return cached[1]
    locale = get_locale()
    if locale is None:
        return DEFAULT_LOCALE
    text = str(locale)
    name = "en" if text.startswith("en") else "zh_Hant" if text.startswith("zh_Hant") else "zh_Hans"
    _babel_namespace().ui_locale = (locale, name)  # get_locale() made the namespace
    return name


# ---------------------------------------------------------------- the language of this request, looked up once
# Flask-Babel finds the request's locale and translations anew for every string: two or three trips through
# `flask.g`'s proxy and the locale's name built again each time, ~280 times on a list page (a seventh of its
# rendering). Flask-Babel keeps the locale it chose on its namespace in `g` (`babel_locale`; `force_locale` swaps
# in another Locale object and puts the first one back); what is derived from it here is kept beside it with that
# object, and used again only while the same object is there.

def _babel_namespace() -> Any:
    """Flask-Babel's namespace in the current application context's `g` (None before it made one)."""
    app_context = _cv_app.get(None)
    return app_context.g.__dict__.get("_flask_babel") if app_context is not None else None


def current_translations() -> Any:
    """Flask-Babel's translations of the current locale (as ``get_translations``), looked up once per locale."""
    babel = _babel_namespace()
    cached = getattr(babel, "ui_translations", None)
    if cached is not None and cached[0] is getattr(babel, "babel_locale", None):
        return cached[1]
    translations = get_translations()
    babel = _babel_namespace()
    locale = getattr(babel, "babel_locale", None)
    if locale is not None:
        babel.ui_translations = (locale, translations)
    return translations


def install_template_gettext(app: Flask) -> None:
    """The templates' _(), gettext and ngettext (Jinja's new-style i18n, as Flask-Babel installs them) through
    ``current_translations``."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
        newstyle=True)


def list_separator() -> str:
    """Between the items of an enumeration: 、 in Chinese, a comma in English."""
    return ", " if current_locale() == "en" else "、"


def colon() -> str:
    """After a caption: the full-width ： in Chinese, ': ' in English."""
    return ": " if current_locale() == "en" else "："


def label_text(label: Any) -> str:
    """A descriptor Label in the current language ('' for None)."""
    return label.text(current_locale()) if label is not None else ""


def lazy_label(label: Any) -> LazyString:
    """A string that renders the label in the language of the request that displays it."""
    return LazyString(label_text, label)
