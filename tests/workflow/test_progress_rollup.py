"""A progress panel with `below:` counts the rows of this task and of every task below it, at every level: the
province's 全辖区核查进度 holds the county's checks; the panel of this level's list holds its own only."""
from __future__ import annotations

import re

from tests.helpers import visible_text
from tests.security import factory


def test_the_province_sees_every_levels_checks(admin, db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        province = factory.make_row(svc, "gas_task", {"title": "全省燃气专项整治"})
        city = factory.make_row(svc, "gas_task", {"title": "常州市", "parent_task": province})
        county = factory.make_row(svc, "gas_task", {"title": "新北区", "parent_task": city})
        for task, name in ((province, "省直管燃气公司"), (county, "新北燃气一"), (county, "新北燃气二")):
            factory.make_row(svc, "gas_check", {"task": task, "enterprise_name": name,
                                                "region": factory.HOME_TOWNSHIP})
        province_id = province.id
    page = visible_text(admin.get(f"/r/gas_task/show/{province_id}").get_data(as_text=True))
    own = re.search(r"燃气企业核查名单.*?共 (\d+) 条", page)
    every = re.search(r"全辖区核查进度.*?共 (\d+) 条", page)
    assert own and every, page[-3000:]
    assert (own.group(1), every.group(1)) == ("1", "3")
    assert "新北燃气二" in page[every.start():]
