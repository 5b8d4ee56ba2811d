"""Buttons that send the user back where they were never send them to another host (no open redirect)."""
from __future__ import annotations


def test_mark_all_read_returns_to_the_same_site_page_only(admin):
    back = admin.post_form("/workflow/inbox/read", {}, page_url="/workflow/inbox",
                           headers={"Referer": "http://localhost/r/hazard/list/?page=2"})
    assert back.status_code == 302 and back.headers["Location"] == "/r/hazard/list/?page=2"
    away = admin.post_form("/workflow/inbox/read", {}, page_url="/workflow/inbox",
                           headers={"Referer": "https://evil.example/phish"})
    assert away.status_code == 302 and "evil.example" not in away.headers["Location"]
    assert away.headers["Location"].endswith("/workflow/inbox")
