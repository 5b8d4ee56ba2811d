"""URLs of register screens: one FAB view serves every register under /r/<register>/."""
from __future__ import annotations

from typing import Any

from flask import url_for

SCREENS = "RegisterScreens"


def register_url(register: str, action: str, **values: Any) -> str:
    return url_for(f"{SCREENS}.{action}", register=register, **values)
