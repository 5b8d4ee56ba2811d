"""The user account with the fields the engine adds to FAB's ab_user."""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, false, func


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


# FAB finds an account by `lower(username) = lower(:login)` (AUTH_USERNAME_CI) at every sign-in, and an enterprise's
# page looks up its account the same way: without this index each lookup read the whole table (0.6–0.9 s with the
# 1,000,000 enterprise accounts of a province). PostgreSQL only in practice: SQLite cannot reflect an expression
# index, so Alembic leaves it out of its comparison there (app/schema.py silences that warning).
Index("ix_ab_user_username_lower", func.lower(AppUser.__table__.c.username))
