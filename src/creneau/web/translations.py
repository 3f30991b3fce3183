# SPDX-License-Identifier: AGPL-3.0-or-later
"""Keeping the French and English catalogs in step with the code: `python -m creneau.web.translations`.

It extracts every message from the web templates and the `creneau.web` Python modules (Babel, with Jinja's
extractor), adds new ones to `locales/{fr,en}/LC_MESSAGES/messages.po` and marks vanished ones obsolete,
keeping existing translations. A test fails when a message has no French translation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from creneau.web.i18n import LOCALE_DIR, LOCALES

WEB_DIR = Path(__file__).resolve().parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    """Every message of the web app, with where it is used."""
    catalog = Catalog(project="creneau", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        WEB_DIR, METHODS, OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def update() -> dict[str, int]:
    """Merge the extracted messages into each locale's `.po`; returns how many lack a translation in each."""
    template = extract()
    missing: dict[str, int] = {}
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, project="creneau", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False  # a fuzzy header would drop the plural rule from the compiled catalog
        catalog.header_comment = f"# creneau web app: {locale} messages (message ids are English).\n#"
        with path.open("wb") as handle:
            write_po(handle, catalog, width=120, sort_output=True, omit_header=False, include_previous=False)
        if locale != "en":  # English pages show the ids themselves
            missing[locale] = sum(1 for m in catalog if m.id and not m.string)
    return missing


if __name__ == "__main__":  # pragma: no cover - developer tool
    for name, count in update().items():
        sys.stdout.write(f"{name}: {count} messages without a translation\n")
