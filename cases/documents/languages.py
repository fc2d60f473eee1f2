"""The languages client documents are printed in, and which of their
translations a translator has reviewed.

The screens stay German (and English); documents for the client (the
Integrationsplan, the consent form with its information sheet) are printed
in one of these languages, with German beside it wherever the client signs.
Their texts live in the .po catalogues (`locale/<code>/LC_MESSAGES/`); a
language added here with its catalogue prints without a code change.

Dari is printed with the Persian (`fa`) catalogue: Django knows no `prs`,
and written Dari and Farsi share script and almost all vocabulary, so one
careful Persian text serves Dari readers (the label says both).

`locale/reviewed.toml` lists the languages whose catalogue a qualified
translator has reviewed; every other language prints a visible notice on
each document ("Diese Übersetzung wurde noch nicht geprüft").
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

SOURCE_LANGUAGE = "de"  # what the Träger and the authorities read; always beside
LATIN = "latin"
CYRILLIC = "cyrillic"
ARABIC = "arabic"
ETHIOPIC = "ethiopic"


@dataclass(frozen=True)
class DocumentLanguage:
    code: str
    name: Promise | str  # how the screens name it (German first)
    native: str  # how the language names itself
    script: str
    rtl: bool = False

    @property
    def label_de(self) -> str:
        with translation.override(SOURCE_LANGUAGE):
            return str(self.name)


DOCUMENT_LANGUAGES: tuple[DocumentLanguage, ...] = (
    DocumentLanguage("de", _("German"), "Deutsch", LATIN),
    DocumentLanguage("en", _("English"), "English", LATIN),
    DocumentLanguage("ar", _("Arabic"), "العربية", ARABIC, rtl=True),
    DocumentLanguage("fa", _("Dari/Farsi"), "دری / فارسی", ARABIC, rtl=True),
    DocumentLanguage("uk", _("Ukrainian"), "Українська", CYRILLIC),
    DocumentLanguage("ru", _("Russian"), "Русский", CYRILLIC),
    DocumentLanguage("tr", _("Turkish"), "Türkçe", LATIN),
    DocumentLanguage("ti", _("Tigrinya"), "ትግርኛ", ETHIOPIC),
)
BY_CODE = {language.code: language for language in DOCUMENT_LANGUAGES}


def document_language(code: str) -> DocumentLanguage | None:
    return BY_CODE.get(code)


def choices() -> list[tuple[str, str]]:
    """(code, name in the page's language) for the screens' pickers."""
    return [(language.code, str(language.name)) for language in DOCUMENT_LANGUAGES]


def reviews_file() -> Path:
    return Path(settings.LOCALE_PATHS[0]) / "reviewed.toml"


@cache
def _reviews(path: Path) -> dict[str, dict[str, str]]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return {code: dict(entry) for code, entry in data.items()}


def is_reviewed(code: str) -> bool:
    """True when `locale/reviewed.toml` names a reviewer for `code`."""
    if code == SOURCE_LANGUAGE:
        return True
    entry = _reviews(reviews_file()).get(code)
    return bool(entry and str(entry.get("reviewed_by", "")).strip())
