"""Test helpers: a client that posts forms the way a browser does (with their CSRF token), text extraction."""
from __future__ import annotations

import re
from html import unescape
from typing import Any

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class FormClient:
    """Wraps Flask's test client; ``post_form`` first GETs the page to read the form's CSRF token."""

    def __init__(self, client: Any):
        self.client = client

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, **kwargs)

    def csrf_token(self, page_url: str) -> str:
        html = self.client.get(page_url).get_data(as_text=True)
        match = CSRF.search(html)
        assert match, f"no CSRF token on {page_url}"
        return match.group(1) or match.group(2)

    def post_form(self, url: str, data: dict[str, Any], page_url: str | None = None, **kwargs: Any) -> Any:
        payload = dict(data)
        payload["csrf_token"] = self.csrf_token(page_url or url)
        return self.client.post(url, data=payload, **kwargs)


def login(client: FormClient, username: str, password: str) -> Any:
    response = client.post_form("/login/", {"username": username, "password": password})
    assert response.status_code == 302, f"login of {username} failed"
    return response


def visible_text(html: str) -> str:
    """The text a user reads: no scripts, styles or tags, entities decoded."""
    html = re.sub(r"(?is)<(script|style|template)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", unescape(html)).strip()


def field_errors(html: str, field: str) -> list[str]:
    """Error texts shown under one field of a generated form."""
    block = re.search(rf'data-field="{field}"(.*?)(?=data-field="|<div class="well|</form>|\Z)', html, re.S)
    if not block:
        return []
    return [visible_text(e) for e in re.findall(r'class="help-block field-error">(.*?)</span>', block.group(1), re.S)]
