"""Demo accounts: one chain of administrators (province → city → county), inspectors, enterprise users."""
from __future__ import annotations


from sqlalchemy import select

from app.services import services

# (login, name, role, organisation name or None, enterprise region prefix for enterprise users, password)
DEMO_ACCOUNTS = [
    ("js_admin", "江苏省管理员", "org_admin", "江苏省应急管理厅", None, "Js@admin2024"),
    ("cz_admin", "常州市管理员", "org_admin", "常州市应急管理局", None, "Cz@admin2024"),
    ("xb_admin", "新北区管理员", "org_admin", "常州市新北区应急管理局", None, "Xb@admin2024"),
    ("xb_inspector", "新北区检查员 王强", "inspector", "常州市新北区应急管理局", None, "Xb@check2024"),
    ("cz_housing", "常州住建检查员 李娜", "inspector", "常州市住房和城乡建设局", None, "Cz@check2024"),
]
ENTERPRISE_DEMOS = [("320411", "Qy@demo2024"), ("2113", "Qy@demo2024")]


def ensure_demo_accounts() -> list[str]:
    """Create the demo accounts once; return the lines that tell how to sign in with them."""
    svc = services()
    from flask import current_app
    sm = current_app.appbuilder.sm
    registry = svc.registry
    org_model = svc.models[registry.organisations.target]
    lines = []
    for login, name, role, org_name, _, password in DEMO_ACCOUNTS:
        org = svc.session.scalar(select(org_model).where(org_model.name == org_name))
        if org is None:
            continue
        user = sm.find_user(username=login)
        if user is None:
            user = sm.add_user(login, name, "", f"{login}@demo.invalid", sm.find_role(role), password)
            user.organisation_id = org.id
        lines.append(f"{registry.roles[role].label.zh:<6} {org_name}: {login} / {password}")
    config = registry.enterprise_accounts
    if config:
        model = svc.models[config.target]
        spec = registry.register(config.target)
        region = spec.ownership.region
        for prefix, password in ENTERPRISE_DEMOS:
            stmt = select(model).where(getattr(model, region).like(f"{prefix}%"), getattr(model, config.login).like("9%"))
            if "department" in spec.field_map:  # an emergency-management enterprise: the one the demo flows use
                stmt = stmt.order_by((model.department != "emergency"), model.id)
            row = svc.session.scalar(stmt.order_by(model.id))
            if row is None:
                continue
            login = getattr(row, config.login)
            user = sm.find_user(username=login)
            if user is not None and user.must_change_password:
                from werkzeug.security import generate_password_hash
                user.password = generate_password_hash(password)
                user.must_change_password = False
            lines.append(f"企业用户 {getattr(row, config.name)}: {login} / {password}")
    svc.session.commit()
    return lines
