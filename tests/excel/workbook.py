"""Filling a downloaded template the way a person does (openpyxl), for the import tests."""
from __future__ import annotations

import io
from typing import Any

import openpyxl
from stdnum.cn import uscc

ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def code(n: int, region: str = "320411") -> str:
    """A valid USCC, different for each n."""
    body = "91" + region + "".join(ORG_CHARS[(n // len(ORG_CHARS) ** i) % len(ORG_CHARS)] for i in range(9))
    return body + uscc.calc_check_digit(body)


def fill(template: bytes, rows: list[list[Any]]) -> io.BytesIO:
    wb = openpyxl.load_workbook(io.BytesIO(template))
    sheet = wb.worksheets[1]
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


def enterprise_row(n: int, **override: Any) -> list[Any]:
    values = {"name": f"常州测试化工{n}有限公司", "uscc": code(n), "enterprise_type": "危险化学品生产单位",
              "region": "江苏省/常州市/新北区/春江街道", "address": f"春江街道{n}号", "legal_representative": "王伟",
              "phone": "", "department": "应急管理", "status": "在产"}
    values.update(override)
    return [values[k] for k in ("name", "uscc", "enterprise_type", "region", "address", "legal_representative",
                                "phone", "department", "status")]
