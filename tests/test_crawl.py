"""Every account of the demo that `./scripts/run` loads follows every link it is offered from the home page and
the menu, two clicks deep: no page crashes, shows a traceback, answers 403/404 to a link it offered, or loads
anything from outside the site."""
from __future__ import annotations

import re

import pytest

from tests.conftest import ADMIN_PASSWORD, reset_users, truncate_registers
from tests.crawler import crawl
from tests.helpers import FormClient, login
from tests.plugins.charts.test_subscriptions import subscribe_every_account


@pytest.fixture(scope="module")
def demo_logins(app) -> dict[str, str]:
    """The demo as ./scripts/run loads it (data, workflows, deadline warnings), and the logins it prints."""
    truncate_registers(app)
    reset_users(app)
    runner = app.test_cli_runner()
    for command in (["demo", "load"], ["demo", "workflows"], ["workflow", "deadlines"]):
        done = runner.invoke(args=command)
        assert done.exit_code == 0, done.output
    printed = runner.invoke(args=["demo", "accounts"]).output
    logins = dict(re.findall(r"^.*?(\S+) / (\S+)$", printed, re.M))
    logins["admin"] = ADMIN_PASSWORD  # the test app's administrator was made with its own password
    return logins


def test_every_demo_account_crawls_without_a_failure(app, demo_logins):
    # the demo's accounts: the administrator, the province → city → county chain, two inspectors and the
    # enterprise accounts (their login is the enterprise's code)
    expected = {"admin", "js_admin", "cz_admin", "xb_admin", "xb_inspector", "cz_housing"}
    assert expected <= set(demo_logins)
    enterprises = [name for name in demo_logins if name not in expected]
    assert len(enterprises) == 2, demo_logins
    failures, visited, mapped, charts, frequency, draws = [], {}, {}, {}, {}, {}
    # 系统订阅: every account subscribes to a dashboard of its roles and the day's snapshot is taken, so that
    # 我的订阅 and a snapshot are crawled as every account
    assert subscribe_every_account(app, demo_logins) == len(demo_logins)
    subscriptions = {}
    for account, password in demo_logins.items():
        client = FormClient(app.test_client())
        login(client, account, password)
        result = crawl(client.client, account, depth=2, rows_per_list=3, variants_per_page=1)
        visited[account] = len(result.visited)
        # the resource map (plugins/gis_map) and its layer data, in each account's scope
        mapped[account] = {"/gis_map/", "/gis_map/layer/enterprise.json"} <= set(result.visited)
        charts[account] = {url for url in result.visited if url.startswith("/charts/")}
        frequency[account] = {url for url in result.visited if url.startswith("/frequency/")}
        draws[account] = {url for url in result.visited if url.startswith(("/random_draw/", "/draws/"))}
        subscriptions[account] = {url for url in result.visited if url.startswith(("/subscriptions/",
                                                                                   "/my_subscriptions/"))}
        failures.extend(result.failures)
    # every account reached a real part of the application, not just its home page
    assert all(count >= 40 for count in visited.values()), visited
    assert all(mapped.values()), mapped
    # the charts plugin's pages (统计分析 menu: the charts, the dashboards) were among them, for every account
    assert all(any(re.match(r"^/charts/[a-z_]+/", url) for url in urls) for urls in charts.values()), charts
    # the frequency pages (menu entries of 执法 and 隐患: per township, the lists of enterprises not inspected)
    # and a township's page, for every regulator account; an enterprise account is not offered them
    for account in expected:
        assert {"/frequency/township_inspections/", "/frequency/self_inspection_reporting/"} <= frequency[account]
        assert any(re.match(r"^/frequency/township_inspections/\d+$", url) for url in frequency[account]), frequency
    assert not any(frequency[account] for account in enterprises), frequency
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(map(str, failures))
    # the random draw (plugins/random_draw: 双随机 and 专家抽取) for the accounts that draw, none for an enterprise
    for account in ("admin", "js_admin", "cz_admin", "xb_admin"):
        assert "/random_draw/" in draws[account], (account, draws[account])
        assert any(re.match(r"^/random_draw/people/[a-z_]+/$", url) for url in draws[account]), draws[account]
    assert not any(draws[account] for account in enterprises), draws
    # 系统订阅 (统计分析) and 我的订阅 (个人中心) with the account's own snapshot, for every account
    for account, urls in subscriptions.items():
        assert {"/subscriptions/", "/subscriptions/add", "/my_subscriptions/"} <= urls, (account, urls)
        assert any(re.match(r"^/my_subscriptions/\d+$", url) for url in urls), (account, urls)
