"""Screenshots of the main pages into docs/gallery/ from an app that is already running (this starts nothing).

    .venv/bin/python scripts/gallery.py --url http://127.0.0.1:5101 --admin admin:PASSWORD \
        --enterprise 913204110K6FF5J5Y6:Qy@demo2024

The enterprise account's pages are taken on a phone (390×844): the pages enterprises use on site.

Signs in with Playwright on Debian's Chromium, switches the language through the app's own /lang/ links, and
saves what a user sees above the fold at 1366×768 and 768×1024, as palette PNGs (Pillow) to stay small.
Chinese shows as boxes without a CJK font (`fc-list :lang=zh`; Debian's fonts-noto-cjk gives one).
"""
from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "gallery"
CHROMIUM = "/usr/bin/chromium"
SIZES = {"1366x768": (1366, 768), "768x1024": (768, 1024)}
PHONE = "390x844"
# name → (path or a callable finding it, what it shows); {show} is the first enterprise of the list
PAGES = {
    "home": ("/", "Home page: to-do and the registers' counts"),
    "enterprise-list": ("/r/enterprise/list/", "Enterprise register (生产经营单位), list with filters"),
    "enterprise-show": ("{show}", "An enterprise's record page"),
    "enterprise-form": ("/r/enterprise/add", "The enterprise form (新增)"),
    "hazard-list": ("/r/hazard/list/", "Hazards (隐患) list"),
    "import": ("/r/enterprise/import", "Excel import page"),
    "todo": ("/workflow/todo", "My to-do list"),
    "accounts": ("/accounts/", "账号管理, the one account screen"),
    "not-found": ("/r/enterprise/show/999999", "Our 404 page, inside the layout"),
    "charts": ("/charts/dashboard/leadership/", "Leadership dashboard (领导驾驶舱), charts from YAML"),
    "map": ("/gis_map/", "Resource map (资源地图): layers, clusters, the jurisdiction's outline"),
    "draw": ("/random_draw/", "Random inspection draw (双随机)"),
}
# an enterprise account on a phone: its hazards, one hazard, its to-do list
PHONE_PAGES = {
    "enterprise-hazards": ("/r/hazard/list/", "An enterprise's hazards on a phone: rows as cards, 筛选 folded"),
    "enterprise-hazard": ("{hazard}", "One of its hazards on a phone: fields, workflow buttons"),
    "enterprise-todo": ("/workflow/todo", "Its to-do list on a phone"),
}
# every page in Simplified Chinese at both sizes; the other languages at the office size, main pages only
SHOTS = ([("zh_Hans", size, page) for size in SIZES for page in PAGES]
         + [(lang, "1366x768", page) for lang in ("zh_Hant", "en")
            for page in ("home", "enterprise-list", "enterprise-show", "enterprise-form", "accounts", "not-found", "charts", "map")])


def sign_in(page: Page, url: str, login: str) -> None:
    username, password = login.split(":", 1)
    page.goto(url + "/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("[type=submit]")
    page.wait_for_load_state("networkidle")


def first_enterprise(page: Page, url: str) -> str:
    page.goto(url + "/r/enterprise/list/")
    href = page.locator("a[href*='/r/enterprise/show/']").first.get_attribute("href") or "/r/enterprise/show/1"
    return re.sub(r"^https?://[^/]+", "", href)


def save(png: bytes, target: Path) -> int:
    """A 256-colour PNG: screens are flat colours and text, so this keeps them readable at a fifth of the size."""
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    image.save(target, optimize=True)
    return target.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the running app, e.g. http://127.0.0.1:5101")
    parser.add_argument("--admin", required=True, help="login:password of the system administrator")
    parser.add_argument("--enterprise", help="login:password of an enterprise account (its pages on a phone)")
    args = parser.parse_args()
    url = args.url.rstrip("/")
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page = context.new_page()
        sign_in(page, url, args.admin)
        show = first_enterprise(page, url)
        for lang in ("zh_Hans", "zh_Hant", "en"):
            page.goto(f"{url}/lang/{lang}")
            for size, name in [(s, p) for (lg, s, p) in SHOTS if lg == lang]:
                width, height = SIZES[size]
                page.set_viewport_size({"width": width, "height": height})
                page.goto(url + PAGES[name][0].format(show=show))
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(1200)  # the charts finish growing (ECharts animates them in)
                file = f"{name}-{lang}-{size}.png"
                kb = save(page.screenshot(), OUT / file) // 1024
                rows.append((file, lang, size, PAGES[name][1]))
                print(f"{file}: {kb} KB")
        page.goto(f"{url}/lang/zh_Hans")
        if args.enterprise:
            width, height = (int(n) for n in PHONE.split("x"))
            phone = browser.new_context(viewport={"width": width, "height": height}, is_mobile=True,
                                        has_touch=True, locale="zh-CN").new_page()
            sign_in(phone, url, args.enterprise)
            phone.goto(url + "/r/hazard/list/")
            hazard = phone.locator("a[href*='/r/hazard/show/']").first.get_attribute("href") or "/r/hazard/list/"
            hazard = re.sub(r"^https?://[^/]+", "", hazard)
            for name, (path, what) in PHONE_PAGES.items():
                phone.goto(url + path.format(hazard=hazard))
                phone.wait_for_load_state("networkidle")
                file = f"{name}-zh_Hans-{PHONE}.png"
                kb = save(phone.screenshot(), OUT / file) // 1024
                rows.append((file, "zh_Hans", PHONE, what))
                print(f"{file}: {kb} KB")
        browser.close()
    write_index(rows)


def write_index(rows: list[tuple[str, str, str, str]]) -> None:
    lines = ["# Screenshot gallery", "",
             "The main pages as a user sees them above the fold, made by `scripts/gallery.py` from the demo data",
             "(`flask demo load; flask demo workflows; flask demo accounts`), signed in as the system administrator.",
             "Simplified Chinese at 1366×768 (the most common office screen) and 768×1024 (a tablet upright, where",
             "the sidebar slides in with ☰); Traditional Chinese and English at 1366×768; an enterprise account's",
             "pages on a phone (390×844). The Chinese glyphs come from a CJK font installed on the machine that",
             "took the pictures (Debian's `fonts-wqy-microhei`, which `scripts/setup` installs for the PDF",
             "documents); the pages themselves load no font from anywhere.", "",
             "| file | language | size | page |", "| --- | --- | --- | --- |"]
    lines += [f"| [{file}]({file}) | {lang} | {size.replace('x', '×')} | {what} |" for file, lang, size, what in rows]
    (OUT / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
