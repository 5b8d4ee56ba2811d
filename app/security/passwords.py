"""Password policy, and the random first passwords of new and reset accounts (issued, hashed, expiring)."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import datetime
from typing import Any

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


#: stored instead of a hash for an account that has no password yet: an enterprise account the engine made with
#: its row (a form, an import of 100,000 rows), until a regulator issues its first password. Nobody can sign in.
PENDING_MARK = "!pending"
#: an earlier release stored this for first passwords computed from the login: such accounts are pending now
LEGACY_DEFAULT_MARK = "!default"
#: a first (or reset) password: ``!first$<expires, epoch seconds>$<salt>$<SHA-256 of salt + password>``
FIRST_MARK = "!first$"

#: no 0/O, 1/l/I: the password is read out over the phone
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
#: 12 random characters of 31: 59 bits. A first password is random, lives a few days and must be changed at
#: the first login, so one salted SHA-256 guards it (a bulk issue of 5,000 takes milliseconds, where scrypt would
#: take minutes); guessing it from a stolen hash takes years of a GPU, past its expiry.
_RANDOM_CHARS = 12


def issue_first_password(user: Any) -> str:
    """A new random first password for ``user``, to be changed at the next login; returns it, to be shown to the
    administrator once: only its hash is kept, and it expires after FIRST_PASSWORD_DAYS."""
    password = "Aq@" + "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_CHARS))
    expires = int(time.time() + current_app.config["FIRST_PASSWORD_DAYS"] * 86400)
    salt = secrets.token_hex(8)
    user.password = f"{FIRST_MARK}{expires}${salt}${_digest(salt, password)}"
    user.must_change_password = True
    return password


def _digest(salt: str, password: str) -> str:
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


def first_password_state(stored: str | None) -> str | None:
    """'pending' (none issued), 'issued', 'expired', or None for an account with a password of its own."""
    if stored in (PENDING_MARK, LEGACY_DEFAULT_MARK):
        return "pending"
    if stored and stored.startswith(FIRST_MARK):
        expires = int(stored[len(FIRST_MARK):].split("$", 1)[0])
        return "issued" if time.time() < expires else "expired"
    return None


def first_password_expiry(stored: str | None) -> datetime | None:
    if stored and stored.startswith(FIRST_MARK):
        return datetime.fromtimestamp(int(stored[len(FIRST_MARK):].split("$", 1)[0]))
    return None


def is_default_password(stored: str | None, login: str, given: str) -> bool | None:
    """For an account without a password of its own: whether ``given`` is its unexpired first password; None for
    other accounts (their scrypt hash is checked as usual)."""
    state = first_password_state(stored)
    if state is None:
        return None
    return state == "issued" and first_password_matches(stored, given)


def first_password_matches(stored: str | None, given: str) -> bool:
    """Whether ``given`` is the first password stored, expired or not (an expired one is then named as such to
    whoever knows it, and to nobody else)."""
    if not stored or not stored.startswith(FIRST_MARK):
        return False
    _expires, salt, digest = stored[len(FIRST_MARK):].split("$")
    return hmac.compare_digest(_digest(salt, given), digest)
