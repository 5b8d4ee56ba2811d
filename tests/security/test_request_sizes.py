"""Request size limits by sender: without a session (login, public forms) 20 MB, signed in the import's 200 MB."""
from __future__ import annotations

import io

from tests.helpers import FormClient, visible_text

MB = 1024 * 1024


def _upload(client, url: str, size_mb: int):
    return client.post(url, data={"csrf_token": "x", "file": (io.BytesIO(b"0" * (size_mb * MB)), "big.xlsx")},
                       content_type="multipart/form-data")


def test_a_large_post_without_a_session_is_refused_with_a_page_in_chinese(db_app):
    public = db_app.test_client()
    for url in ("/public/enterprise_application", "/login/"):
        response = _upload(public, url, 25)
        assert response.status_code == 413, url
        assert "上传内容过大" in visible_text(response.get_data(as_text=True))
    # below the limit the request is read (and refused for its missing CSRF token, not its size)
    assert _upload(public, "/public/enterprise_application", 5).status_code == 400


def test_a_signed_in_user_may_send_more(admin: FormClient):
    response = _upload(admin.client, "/r/enterprise/import", 25)
    assert response.status_code != 413
