"""Password policy, the default password of new and reset accounts, and its check."""
from __future__ import annotations

import re

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


#: stored instead of a hash while an account still has its default password: the default is derived from the
#: login (whoever knows the code knows it) and must be changed at the first login, so hashing it would protect
#: nothing and would cost an import of 100,000 enterprises minutes. Chosen passwords get FAB's scrypt hash.
DEFAULT_PASSWORD_MARK = "!default"


def default_password_hash(login: str) -> str:
    return DEFAULT_PASSWORD_MARK


def is_default_password(stored: str | None, login: str, given: str) -> bool | None:
    """For an account still on its default password: whether ``given`` is it; None for other accounts."""
    if stored != DEFAULT_PASSWORD_MARK:
        return None
    import hmac
    return hmac.compare_digest(given.encode(), default_password(login).encode())


def default_password(login: str) -> str:
    """The first (or reset) password of an account, to be changed at the next login: 'Aq@' + last 6 of the login."""
    return f"Aq@{login[-6:]}"
