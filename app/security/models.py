"""The user account with the fields the engine adds to FAB's ab_user."""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, Column, DateTime, Integer, String, false


class AppUser(User):
    __tablename__ = "ab_user"
    #: the UI language the user chose last ('zh_Hans', 'zh_Hant', 'en'); restored at login
    locale = Column(String(10))
    #: a regulator's organisation (a row of the organisations register)
    organisation_id = Column(Integer, index=True)
    #: an enterprise account's code (USCC or mobile): it sees the enterprise rows with that code
    enterprise_key = Column(String(64), index=True)
    #: set for new accounts and after a reset: the next login must choose a new password
    must_change_password = Column(Boolean, nullable=False, default=False, server_default=false())
    password_changed_at = Column(DateTime)
    #: repeated failed logins lock the account until then
    locked_until = Column(DateTime)
