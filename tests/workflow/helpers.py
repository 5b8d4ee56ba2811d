"""Driving workflows the way users do: buttons posted from a row's page, what the page and the inbox show."""
from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import select

from tests.helpers import FormClient, login, visible_text
from tests.security import factory

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def client_for(app: Any, username: str) -> FormClient:
    client = FormClient(app.test_client())
    login(client, username, factory.PASSWORD)
    return client


def take(client: FormClient, register: str, row_id: int, name: str, comment: str | None = None,
         files: list[tuple[str, bytes]] = (), signature: tuple[str, bytes] | None = None) -> Any:
    """Press a transition's button on the row's page (its form, with the page's CSRF token); follows the
    redirect back to the page and returns it."""
    token = client.csrf_token("/workflow/inbox")  # any page with a form carries the session's token
    data: dict[str, Any] = {"csrf_token": token}
    if comment is not None:
        data["comment"] = comment
    if files:
        data["files"] = [(io.BytesIO(content), filename) for filename, content in files]
    if signature:
        data["signature"] = (io.BytesIO(signature[1]), signature[0])
    return client.post(f"/r/{register}/transition/{row_id}/{name}", data=data, content_type="multipart/form-data",
                       follow_redirects=True)


def stored(app: Any, register: str, row_id: int) -> Any:
    svc = app.extensions["safety"]
    model = svc.models[register]
    with app.app_context():
        row = svc.session.execute(select(model).where(model.id == row_id)
                                  .execution_options(include_all_rows=True)).scalar_one_or_none()
        svc.session.expunge_all()
        return row


def state_of(app: Any, register: str, row_id: int) -> str:
    spec = app.extensions["safety"].registry.register(register)
    return getattr(stored(app, register, row_id), spec.workflow.field)


def buttons(html: str) -> list[str]:
    """The transition buttons the page offers (their names)."""
    return re.findall(r'class="btn [^"]*workflow-button"[^>]*data-transition="([^"]+)"', html)


def alerts(html: str) -> str:
    """The flashed messages of a page, as text."""
    return " ".join(visible_text(m) for m in re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S))


def inbox(client: FormClient) -> str:
    return visible_text(client.get("/workflow/inbox").get_data(as_text=True))


def history(app: Any, register: str, row_id: int) -> list[Any]:
    svc = app.extensions["safety"]
    H = svc.models.engine["WorkflowHistory"]
    with app.app_context():
        rows = list(svc.session.scalars(select(H).where(H.register == register, H.row_id == row_id).order_by(H.id)))
        svc.session.expunge_all()
        return rows


def has_input(html: str, name: str) -> bool:
    """Whether a form on the page has a control for this field."""
    return re.search(rf'<(?:input|textarea|select)\b[^>]*\bname="{name}"', html) is not None
