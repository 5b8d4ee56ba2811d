"""企业信息更正 (003 企业自助): an enterprise cannot change its name or address on its record; it asks for a
correction, which applies only when a regulator of its jurisdiction approves it (or is rejected with a reason)."""
from __future__ import annotations

from tests.helpers import visible_text
from tests.workflow.helpers import buttons, client_for, inbox, state_of, stored, take

from .conftest import add


def test_a_correction_applies_only_once_the_regulator_approves(db_app, county):
    company = client_for(db_app, county["enterprise"])
    eid = county["enterprise_id"]
    form = company.get(f"/r/enterprise/edit/{eid}").get_data(as_text=True)
    assert 'name="name"' not in form and 'name="address"' not in form
    old_address = stored(db_app, "enterprise", eid).address

    correction = add(company, "enterprise_correction", {
        "enterprise": str(eid), "reason": "企业搬迁，营业执照住所已变更", "address": "常州市新北区春江街道圩塘路18号",
        "legal_representative": "周明"})
    assert state_of(db_app, "enterprise_correction", correction) == "pending"
    assert stored(db_app, "enterprise", eid).address == old_address   # not yet
    assert buttons(company.get(f"/r/enterprise_correction/show/{correction}").get_data(as_text=True)) == []

    # another county's regulator neither sees nor decides it
    assert client_for(db_app, county["away"]).get(
        f"/r/enterprise_correction/show/{correction}").status_code == 403
    admin = client_for(db_app, county["admin"])
    assert sorted(buttons(admin.get(f"/r/enterprise_correction/show/{correction}").get_data(as_text=True))) == [
        "approve", "reject"]
    take(admin, "enterprise_correction", correction, "approve")
    row = stored(db_app, "enterprise", eid)
    assert (row.address, row.legal_representative) == ("常州市新北区春江街道圩塘路18号", "周明")
    assert row.name == county["enterprise_name"]     # left empty: unchanged
    assert "企业信息更正已审核通过并生效" in inbox(company)

    # a rejected correction changes nothing and says why
    second = add(company, "enterprise_correction", {"enterprise": str(eid), "reason": "更名",
                                                     "name": "常州新北随意改名有限公司"})
    take(admin, "enterprise_correction", second, "reject", comment="未提供工商变更证明")
    assert state_of(db_app, "enterprise_correction", second) == "rejected"
    assert stored(db_app, "enterprise", eid).name == county["enterprise_name"]
    assert "未提供工商变更证明" in visible_text(
        company.get(f"/r/enterprise_correction/show/{second}").get_data(as_text=True))
