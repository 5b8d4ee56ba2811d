"""Login throttling without lock-outs: a captcha on an account after repeated failures, a growing wait between
further tries on that account, and a limit on failed logins per client address.

Logins are public (an enterprise signs in with its credit code), so a hard lock would let anyone keep any
enterprise out. Instead, after LOGIN_CAPTCHA_AFTER failures the account asks for the captcha shown on the login
page (python `captcha` images, made here, no outside service) before it even checks the password, and each
further failure doubles the wait before the next try (LOGIN_BACKOFF_SECONDS up to LOGIN_BACKOFF_MAX_SECONDS).
Someone guessing passwords from one address is stopped by LOGIN_FAILURE_RATE_LIMIT; from many addresses, each
guess costs a solved captcha and the wait. The real user always gets in with the password and the captcha once
the wait (at most LOGIN_BACKOFF_MAX_SECONDS) is over. A success clears the count.
"""
from __future__ import annotations

import hmac
import io
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Response, current_app, g, request, session

from flask_appbuilder import BaseView, expose

# letters that cannot be mistaken for one another on a noisy image (no 0/O, 1/I/L, 2/Z, 5/S, 8/B)
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
SESSION_ANSWER = "_captcha"
SESSION_NEEDED = "_captcha_needed"


def captcha_required(user: Any) -> bool:
    return user is not None and (user.fail_login_count or 0) >= current_app.config["LOGIN_CAPTCHA_AFTER"]


def captcha_answered() -> bool:
    """The captcha typed on the login form matches the one last shown in this session (each image answers once)."""
    expected = session.pop(SESSION_ANSWER, None)
    given = (request.form.get("captcha") or "").strip().upper()
    return bool(expected and given) and hmac.compare_digest(expected, given)


def wait_seconds(user: Any, now: datetime) -> int:
    """Seconds before the account may try again (0 when it may)."""
    if user is None or not user.locked_until or user.locked_until <= now:
        return 0
    return int((user.locked_until - now).total_seconds()) + 1


def after_failure(user: Any, now: datetime) -> None:
    """Count the failure (FAB did) and set the wait before the next try once the captcha threshold is passed."""
    g.login_failed = True
    if user is None:
        return
    beyond = (user.fail_login_count or 0) - current_app.config["LOGIN_CAPTCHA_AFTER"]
    if beyond >= 0:
        session[SESSION_NEEDED] = True
        seconds = min(current_app.config["LOGIN_BACKOFF_MAX_SECONDS"],
                      current_app.config["LOGIN_BACKOFF_SECONDS"] * 2 ** beyond)
        user.locked_until = now + timedelta(seconds=seconds)


def failed_login(response: Response) -> bool:
    """For the per-address limit: only failed logins count (a busy office shares one address)."""
    return bool(g.get("login_failed"))


class CaptchaView(BaseView):
    """The captcha image of the login page; its answer is kept in the session, never sent to the browser."""

    route_base = "/login"
    default_view = "image"

    @expose("/captcha.png")
    def image(self) -> Response:
        from captcha.image import ImageCaptcha

        answer = "".join(secrets.choice(ALPHABET) for _ in range(4))
        session[SESSION_ANSWER] = answer
        data = ImageCaptcha(width=160, height=60).generate(answer)
        data = data.getvalue() if isinstance(data, io.BytesIO) else data
        return Response(data, mimetype="image/png", headers={"Cache-Control": "no-store"})
