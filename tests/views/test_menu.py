"""The sidebar follows the account: an app keeps each account's menu between pages, and a permission taken or
given, a role changed or another language shows on the next page, never a menu of someone else."""
from __future__ import annotations

import re

from tests.helpers import FormClient, login
from tests.security import factory


def entries(client: FormClient) -> set[str]:
    html = client.get("/workflow/inbox").get_data(as_text=True)
    return set(re.findall(r'data-menu="([^"]+)"', html))


def labels(client: FormClient) -> str:
    return client.get("/workflow/inbox").get_data(as_text=True)


def test_the_menu_follows_permissions_roles_and_language(db_app) -> None:
    svc = db_app.extensions["safety"]
    sm = db_app.appbuilder.sm
    with db_app.app_context():
        org = factory.make_org(svc)
        regulator = factory.make_user(db_app, "regulator", org).username
        trainer = factory.make_user(db_app, "trainer", org).username
    client = FormClient(db_app.test_client())
    login(client, regulator, factory.PASSWORD)
    first = entries(client)
    assert "menu_hazard" in first and entries(client) == first   # the same menu, page after page

    # the role loses the menu entry of the hazards: the next page's menu has no such entry, and gets it back
    with db_app.app_context():
        role = sm.find_role("regulator")
        pv = sm.find_permission_view_menu("menu_access", "menu_hazard")
        sm.del_permission_role(role, pv)
    try:
        assert entries(client) == first - {"menu_hazard"}
    finally:
        with db_app.app_context():
            sm.add_permission_role(sm.find_role("regulator"), sm.find_permission_view_menu("menu_access",
                                                                                          "menu_hazard"))
    assert entries(client) == first

    # another account with other roles never gets the regulator's menu from the app's cache
    other = FormClient(db_app.test_client())
    login(other, trainer, factory.PASSWORD)
    assert entries(other) != first

    # the language: the same account's menu in English once it switches
    assert "隐患排查治理" in labels(client)
    client.get("/lang/en")
    english = labels(client)
    assert "隐患排查治理" not in english and re.search(r'app-menu-label">Hazard', english)
