"""The users of bench/load.py: signed-in regulators on the enterprise register, for locust (run by bench/load.py).

Everything the users need comes from the JSON plan named by BENCH_LOAD_PLAN, which bench/load.py writes: the
accounts (user name, password, weight, the ids of rows the account may see, its deepest page), the search words,
the think time, the number of users, the warm-up and measured seconds, and the file where every request is
recorded (kind, start, duration, success, error) for bench/load.py to compute its figures from. Each simulated user signs in once (GET /login/ for the CSRF token,
POST /login/ → 302 away from the login page), then loops over:

1. the first page of the list, ``/r/enterprise/list/``;
2. a random page of it, ``?page=N`` (2 … the account's deepest page);
3. a quick search, ``?q=<word>`` (a name fragment from the data);
4. the show page of a random row the account may see;
5. a save: the edit form (GET), posted back with a changed telephone, the form's CSRF token and version → 302 to
   the row's show page.

A response counts as a failure unless its status is the expected one (no redirect is followed: a list page that
redirects to the login page fails), and a 200 that is the login page fails too.

Production cookies are Secure: ``requests`` would not send them back over plain HTTP to 127.0.0.1 (behind nginx the
site is HTTPS), so each user keeps its cookies itself, as tests/production/test_two_web_two_workers.py does.
"""
from __future__ import annotations

import json
import os
import random
import re
import time
from html import unescape
from html.parser import HTMLParser
from typing import Any

import gevent
from locust import HttpUser, SequentialTaskSet, between, constant, events, task

PLAN: dict[str, Any] = {}
if os.environ.get("BENCH_LOAD_PLAN"):
    with open(os.environ["BENCH_LOAD_PLAN"], encoding="utf-8") as _plan:
        PLAN = json.load(_plan)
BASE = "/r/enterprise"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
LOGIN_FORM = re.compile(r'<input[^>]+name="password"')

# ---------------------------------------------------------------- every request, recorded for bench/load.py

RECORDS: list[tuple[str, float, float, int, str]] = []  # kind, start (epoch s), duration ms, ok, error
TIMES: dict[str, float] = {}


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, response_length: int, exception: Any = None,
            start_time: float | None = None, **_kwargs: Any) -> None:
    started = start_time if start_time is not None else time.time() - response_time / 1000
    RECORDS.append((name, started, response_time, 0 if exception else 1, str(exception)[:300] if exception else ""))


SIGNED_IN = [0]  # users whose sign-in has been answered (passed or failed)


@events.test_start.add_listener
def _started(environment: Any, **_kwargs: Any) -> None:
    TIMES["start"] = time.time()
    if PLAN.get("duration"):
        gevent.spawn(_clock, environment)


def _clock(environment: Any) -> None:
    """The measured window: it opens PLAN["warmup"] seconds after every user has signed in, and the run ends
    PLAN["duration"] seconds later (locust's own --run-time is only a safety limit)."""
    deadline = time.time() + PLAN.get("sign_in_timeout", 600)
    while SIGNED_IN[0] < PLAN["users"] and time.time() < deadline:
        gevent.sleep(0.2)
    TIMES["signed_in"] = time.time()
    gevent.sleep(PLAN["warmup"])
    TIMES["measure"] = time.time()
    gevent.sleep(PLAN["duration"])
    TIMES["stop"] = time.time()
    environment.runner.quit()


if hasattr(events, "test_stopping"):
    @events.test_stopping.add_listener
    def _stopping(**_kwargs: Any) -> None:
        TIMES.setdefault("stop", time.time())


@events.test_stop.add_listener
def _stopped(**_kwargs: Any) -> None:
    TIMES.setdefault("stop", time.time())
    TIMES["stopped"] = time.time()
    if PLAN.get("records"):
        with open(PLAN["records"], "w", encoding="utf-8") as out:
            json.dump({"times": TIMES, "records": RECORDS}, out, ensure_ascii=False)


# ---------------------------------------------------------------- the edit form, as a browser submits it


class FormFields(HTMLParser):
    """The name/value pairs a browser submits with each <form> of a page (inputs inside <template> are not part
    of the form; disabled controls, buttons and file inputs are left out; an unchecked box sends nothing; a select
    sends its selected options, or its first one)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[dict[str, str], list[tuple[str, str]]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._template = 0
        self._select: tuple[str, bool, list[str], list[str]] | None = None  # name, multiple, options, selected
        self._option: tuple[str | None, bool, list[str]] | None = None  # value attribute, selected, text
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "template":
            self._template += 1
        if self._template:
            return
        if tag == "form":
            self._fields = []
            self.forms.append((values, self._fields))
        if self._fields is None or "disabled" in values:
            return
        name = values.get("name")
        if tag == "input" and name:
            kind = values.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in values:
                    self._fields.append((name, values.get("value", "on")))
                return
            self._fields.append((name, values.get("value", "")))
        elif tag == "select" and name:
            self._select = (name, "multiple" in values, [], [])
        elif tag == "option" and self._select is not None:
            self._end_option()  # </option> may be left out
            self._option = (values.get("value"), "selected" in values, [])
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option[2].append(data)
        elif self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._template = max(0, self._template - 1)
            return
        if self._template:
            return
        if tag == "option" or (tag == "select" and self._option is not None):
            self._end_option()
        if tag == "select" and self._select is not None and self._fields is not None:
            name, multiple, options, selected = self._select
            chosen = selected if multiple else (selected[-1:] or options[:1])
            self._fields.extend((name, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._fields is not None:
            text = "".join(self._textarea[1])  # a browser drops the newline that follows <textarea>
            self._fields.append((self._textarea[0], text[2:] if text.startswith("\r\n") else
                                 text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "form":
            self._fields = None

    def _end_option(self) -> None:
        if self._option is None or self._select is None:
            return
        value, selected, text = self._option
        value = value if value is not None else "".join(text).strip()
        self._select[2].append(value)
        if selected:
            self._select[3].append(value)
        self._option = None


def edit_form(html: str) -> list[tuple[str, str]] | None:
    """The fields of the page's POST form that carries a CSRF token and a version (the register's edit form)."""
    parser = FormFields()
    parser.feed(html)
    parser.close()
    for attrs, fields in parser.forms:
        names = {name for name, _ in fields}
        if attrs.get("method", "get").lower() == "post" and "csrf_token" in names and "_version" in names:
            return fields
    return None


def a_mobile() -> str:
    return "1" + random.choice("3456789") + "".join(random.choice("0123456789") for _ in range(9))


# ---------------------------------------------------------------- the users


class Screens(SequentialTaskSet):
    """One loop of a regulator's work on the register; the think time (PLAN["wait"]) comes between the steps."""

    user: RegulatorUser

    def _get(self, url: str, kind: str) -> tuple[bool, str]:
        return self.user.request("GET", url, kind, expect=200)

    @task
    def list_first_page(self) -> None:
        self._get(f"{BASE}/list/", "list: first page")

    @task
    def list_random_page(self) -> None:
        self._get(f"{BASE}/list/?page={random.randint(2, max(2, self.user.account['max_page']))}",
                  "list: random page")

    @task
    def search(self) -> None:
        self._get(f"{BASE}/list/?q={random.choice(PLAN['words'])}", "search")

    @task
    def show(self) -> None:
        self._get(f"{BASE}/show/{random.choice(self.user.account['ids'])}", "show")

    @task
    def save(self) -> None:
        row = random.choice(self.user.account["ids"])
        ok, html = self.user.request("GET", f"{BASE}/edit/{row}", "save: edit form", expect=200)
        if not ok:
            return
        fields = edit_form(html)
        if fields is None:
            self.user.failed("save: edit form", f"{BASE}/edit/{row}", "no edit form with csrf_token and _version")
            return
        posted = [(name, a_mobile() if name == "phone" else value) for name, value in fields]
        self.user.request("POST", f"{BASE}/edit/{row}", "save: POST", expect=302, data=posted,
                          location=f"{BASE}/show/{row}")


class RegulatorUser(HttpUser):
    """A signed-in account; its rows and deepest page come from PLAN["accounts"][<account label>]."""

    abstract = True
    label = ""
    tasks = [Screens]
    wait_time = between(*PLAN["wait"]) if PLAN.get("wait") and PLAN["wait"][1] > 0 else constant(0)

    def on_start(self) -> None:
        self.account = PLAN["accounts"][self.label]
        self.cookies: dict[str, str] = {}
        try:
            self.sign_in()
        finally:
            SIGNED_IN[0] += 1

    def sign_in(self) -> None:
        ok, html = self.request("GET", "/login/", "login: form", expect=200, login_page_ok=True)
        found = CSRF.search(html) if ok else None
        if not found:
            if ok:
                self.failed("login: form", "/login/", "no csrf_token on /login/")
            return  # recorded: its pages will fail, and count
        self.request("POST", "/login/", "login: POST", expect=302, away_from="/login",
                     data={"csrf_token": unescape(found.group(1) or found.group(2)),
                           "username": self.account["username"], "password": self.account["password"]})

    def failed(self, kind: str, url: str, why: str) -> None:
        self.environment.events.request.fire(request_type="CHECK", name=kind, response_time=0, response_length=0,
                                             exception=AssertionError(f"{url}: {why}"), start_time=time.time(),
                                             context={}, response=None, url=url)

    def request(self, method: str, url: str, kind: str, expect: int, location: str | None = None,
                away_from: str | None = None, login_page_ok: bool = False, **kwargs: Any) -> tuple[bool, str]:
        """One request with this user's cookies; (passed, body). No redirect is followed."""
        with self.client.request(method, url, name=kind, cookies=self.cookies, allow_redirects=False,
                                 catch_response=True, **kwargs) as response:
            for cookie in response.cookies:
                self.cookies[cookie.name] = cookie.value
            self.client.cookies.clear()  # kept above, without the Secure flag
            text = response.text or ""
            target = response.headers.get("Location", "")
            if response.status_code != expect:
                detail = f" → {target}" if target else ""
                response.failure(f"HTTP {response.status_code}{detail} (expected {expect})")
                return False, text
            if expect == 200 and not login_page_ok and LOGIN_FORM.search(text):
                response.failure("the login page (signed out?)")
                return False, text
            if location is not None and not target.split("?")[0].endswith(location):
                response.failure(f"redirected to {target}, not {location} (the form refused?)")
                return False, text
            if away_from is not None and away_from in target:
                response.failure(f"redirected back to {target} (sign-in refused)")
                return False, text
            response.success()
            return True, text


class AdminUser(RegulatorUser):
    """The whole country (role Admin)."""

    label = "admin"
    weight = int(PLAN.get("accounts", {}).get("admin", {}).get("weight", 1))


class CountyUser(RegulatorUser):
    """A county-level regulator: its row scope limits every screen to its county."""

    label = "county"
    weight = int(PLAN.get("accounts", {}).get("county", {}).get("weight", 1))
