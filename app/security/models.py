"""The user account with the fields the engine adds to FAB's ab_user."""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, String


class AppUser(User):
    __tablename__ = "ab_user"
    #: the UI language the user chose last ('zh_Hans', 'zh_Hant', 'en'); restored at login
    locale = Column(String(10))
