"""A menu entry with its own label (menu.label): the navbar shows it in each language; the page keeps the
register's label."""
from __future__ import annotations

import re

from tests.helpers import visible_text


def _navbar_entry(html: str) -> str:
    """The text of the navbar link to the depot list."""
    link = re.search(r'<a[^>]*href="/r/depot/list/"[^>]*>(.*?)</a>', html, re.S)
    assert link, "no navbar link to /r/depot/list/"
    return visible_text(link.group(1))


def test_the_menu_entry_shows_its_own_label_in_all_three_languages(engine_admin):
    page = engine_admin.get("/r/rescue_team/list/").get_data(as_text=True)
    assert _navbar_entry(page) == "应急物资库"

    engine_admin.get("/lang/zh_Hant")
    assert _navbar_entry(engine_admin.get("/r/rescue_team/list/").get_data(as_text=True)) == "應急物資庫"

    engine_admin.get("/lang/en")
    html = engine_admin.get("/r/rescue_team/list/").get_data(as_text=True)
    assert _navbar_entry(html) == "Emergency depots"
    # the register's own label stays the list's title
    depot_list = engine_admin.get("/r/depot/list/").get_data(as_text=True)
    assert _navbar_entry(depot_list) == "Emergency depots"
    assert "Supply depots" in visible_text(depot_list)
    engine_admin.get("/lang/zh_Hans")
