"""Translation catalogues: `extract` refreshes the Simplified Chinese catalogue from the code;
`build` compiles zh_Hans, derives zh_Hant with OpenCC s2twp (plus translations/zh_Hant_overrides.yaml) and folds in FAB's own strings.

    python scripts/i18n.py extract   # after changing UI strings; then translate translations/zh_Hans/.../messages.po
    python scripts/i18n.py build     # at setup: writes the .mo files (not committed)
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.i18n.chinese import overrides, to_traditional  # noqa: E402

TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
HANS_PO = TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po"


def _fab_catalog() -> Catalog:
    import flask_appbuilder
    path = Path(flask_appbuilder.__file__).parent / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale="zh_Hans")


def extract() -> None:
    CommandLineInterface().run(["pybabel", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "lazy_gettext",
                                "-k", "_l", "--no-location", "--sort-output", "-o", str(POT), str(ROOT)])
    if HANS_PO.exists():
        CommandLineInterface().run(["pybabel", "update", "-i", str(POT), "-o", str(HANS_PO), "-l", "zh_Hans",
                                    "--no-fuzzy-matching", "--ignore-obsolete"])
    else:
        HANS_PO.parent.mkdir(parents=True, exist_ok=True)
        CommandLineInterface().run(["pybabel", "init", "-i", str(POT), "-o", str(HANS_PO), "-l", "zh_Hans"])
    with HANS_PO.open("rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog if m.id and (not m.string or isinstance(m.string, tuple) and not all(m.string))]
    if missing:
        print(f"{len(missing)} message(s) still need a Chinese translation in {HANS_PO.relative_to(ROOT)}:")
        for message in missing:
            print("  ", message)


def _merged_hans() -> Catalog:
    """FAB's Chinese strings, then ours on top (ours win)."""
    merged = Catalog(locale="zh_Hans", domain="messages")
    for message in _fab_catalog():
        if message.id and message.string:
            merged.add(message.id, message.string, context=message.context)
    with HANS_PO.open("rb") as handle:
        ours = read_po(handle, locale="zh_Hans")
    for message in ours:
        if message.id and message.string and not message.fuzzy:
            # Catalog.add keeps an existing entry's text: remove FAB's first so ours wins
            if merged.get(message.id, context=message.context) is not None:
                merged.delete(message.id, context=message.context)
            merged.add(message.id, message.string, context=message.context)
    return merged


def _traditional(hans: Catalog) -> Catalog:
    whole = overrides()["messages"]
    hant = Catalog(locale="zh_Hant", domain="messages")
    for message in hans:
        if not message.id:
            continue
        if isinstance(message.string, (tuple, list)):
            text = tuple(to_traditional(s) for s in message.string)
        else:
            text = whole[message.id] if isinstance(message.id, str) and message.id in whole \
                else to_traditional(message.string)
        hant.add(message.id, text, context=message.context)
    return hant


def build() -> None:
    hans = _merged_hans()
    catalogs = {"zh_Hans": hans, "zh_Hant": _traditional(hans), "en": Catalog(locale="en", domain="messages")}
    for locale, catalog in catalogs.items():
        folder = TRANSLATIONS / locale / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "messages.mo").open("wb") as handle:
            write_mo(handle, catalog)
        if locale == "zh_Hant":
            # kept beside the .mo so a reviewer can read what OpenCC produced (not committed)
            with (folder / "messages.generated.po").open("wb") as handle:
                write_po(handle, catalog)
    print(f"Compiled catalogues: {', '.join(catalogs)} ({len(hans)} messages).")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "build"
    {"extract": extract, "build": build}[command]()
