"""The generated administrator password: in a file only its owner can read, gone once the administrator chose a
password; demo accounts (published passwords) are never created in production."""
from __future__ import annotations

import re
import stat

from tests.helpers import FormClient, login


def test_the_first_password_file_is_private_and_removed_after_the_change(tmp_path):
    from app import create_app
    from app.setup import credentials_file

    app = create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'safety.db'}",
                     UPLOAD_FOLDER=tmp_path / "var" / "uploads")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["metadata", "migrate"]).exit_code == 0

    app.config["ENV_NAME"] = "production"
    refused = runner.invoke(args=["demo", "accounts"])
    assert refused.exit_code != 0 and "never created in production" in refused.output
    app.config["ENV_NAME"] = "test"

    result = runner.invoke(args=["demo", "accounts"])
    password = re.search(r"Administrator: admin / (\S+)", result.output).group(1)
    path = credentials_file(app)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    client = FormClient(app.test_client())
    login(client, "admin", password)
    # named as people write it, one name as every account of the accounts screen: 系统管理员, not "系统 管理员"
    assert re.search(r'class="app-topnav-label app-user-name">\s*系统管理员</span>', client.get("/").get_data(as_text=True))
    changed = client.post_form("/account/password", {"current": password, "new": "Chosen-Pass-2026",
                                                      "confirm": "Chosen-Pass-2026"})
    assert changed.status_code == 302, changed.get_data(as_text=True)
    assert not path.exists()
    again = runner.invoke(args=["demo", "accounts"])
    assert "admin / (changed since the first start)" in again.output and password not in again.output
