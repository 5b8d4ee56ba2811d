"""Password policy, the default password of new and reset accounts, and its check."""
from __future__ import annotations

import hashlib
import hmac
import re

from flask import current_app
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import gettext

MIN_LENGTH = 8
CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"\d"), re.compile(r"[^A-Za-z0-9]"))


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why a password is refused (in the current language), or None."""
    if len(password) < MIN_LENGTH:
        return gettext("At least %(n)s characters are needed.", n=MIN_LENGTH)
    if sum(1 for cls in CLASSES if cls.search(password)) < 3:
        return gettext("Use at least three of: lower-case letters, upper-case letters, digits, symbols.")
    if username and username.lower() in password.lower():
        return gettext("The password may not contain the login name.")
    return None


def validate_password(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR: FAB's own password forms apply the same policy."""
    problem = password_problem(password)
    if problem:
        raise PasswordComplexityValidationError(problem)


#: stored instead of a hash while an account still has its first (or reset) password: that password is computed
#: from the login with the server's key (below), so storing a hash of it would protect nothing more and would cost
#: an import of 100,000 enterprises minutes. Chosen passwords get FAB's scrypt hash.
DEFAULT_PASSWORD_MARK = "!default"

#: no 0/O, 1/l/I: the password is read out over the phone
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def default_password_hash(login: str) -> str:
    return DEFAULT_PASSWORD_MARK


def is_default_password(stored: str | None, login: str, given: str) -> bool | None:
    """For an account still on its default password: whether ``given`` is it; None for other accounts."""
    if stored != DEFAULT_PASSWORD_MARK:
        return None
    return hmac.compare_digest(given.encode(), default_password(login).encode())


def default_password(login: str) -> str:
    """The first (or reset) password of an account, to be changed at the next login.

    'Aq@' and six characters of an HMAC of the login under the server's key (``DEFAULT_PASSWORD_KEY``, else
    ``SECRET_KEY``): the administrator who creates or resets the account is shown it, but nobody can work it
    out from the login, which for an enterprise is its public credit code."""
    key = current_app.config.get("DEFAULT_PASSWORD_KEY") or current_app.config["SECRET_KEY"]
    digest = hmac.new(str(key).encode(), f"first-password:{login}".encode(), hashlib.sha256).digest()
    return "Aq@" + "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:6])
