"""The fonts of the client documents, registered with reportlab by path.

Debian's fonts-noto-core provides them (SIL Open Font License); `make`
installs it through `scripts/ensure_fonts.sh`. `LOTSE_FONT_DIR` points
elsewhere (a directory holding the same file names). Each script has its
font; a character the script's font lacks (Latin letters or brackets in an
Arabic line, digits in an Ethiopic one) falls back to Noto Sans.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from cases.documents.languages import ARABIC, CYRILLIC, ETHIOPIC, LATIN
from config.errors import ApplicationError

FILES = {
    LATIN: "NotoSans",  # Latin and Cyrillic
    ARABIC: "NotoSansArabic",
    ETHIOPIC: "NotoSansEthiopic",
}
SCRIPT_FONT = {LATIN: LATIN, CYRILLIC: LATIN, ARABIC: ARABIC, ETHIOPIC: ETHIOPIC}
DEBIAN_PACKAGE = "fonts-noto-core"


class FontsMissing(ApplicationError):
    """The server lacks a font the document's language needs (503)."""

    http_status = 503
    default_code = "fonts_missing"

    def __init__(self, files: list[str]) -> None:
        self.files = files
        super().__init__(
            _(
                "The fonts for this language are not installed on the server "
                "(%(files)s, Debian package %(package)s)."
            )
            % {"files": ", ".join(files), "package": DEBIAN_PACKAGE}
        )


def font_dir() -> Path:
    return Path(settings.LOTSE_FONT_DIR)


def font_name(family: str, *, bold: bool) -> str:
    return f"Lotse{FILES[family]}-{'Bold' if bold else 'Regular'}"


def missing_files(scripts: set[str] | None = None) -> list[str]:
    families = {SCRIPT_FONT[s] for s in scripts} | {LATIN} if scripts else set(FILES)
    return [
        f"{FILES[family]}-{weight}.ttf"
        for family in sorted(families)
        for weight in ("Regular", "Bold")
        if not (font_dir() / f"{FILES[family]}-{weight}.ttf").is_file()
    ]


@cache
def _register(family: str, bold: bool, directory: str) -> frozenset[int]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = Path(directory) / f"{FILES[family]}-{'Bold' if bold else 'Regular'}.ttf"
    font = TTFont(font_name(family, bold=bold), str(path))
    pdfmetrics.registerFont(font)
    return frozenset(font.face.charToGlyph)


def ensure(scripts: set[str]) -> None:
    """Register the fonts `scripts` need (and Noto Sans), or raise
    FontsMissing naming the files."""
    missing = missing_files(scripts)
    if missing:
        raise FontsMissing(missing)
    for family in {SCRIPT_FONT[s] for s in scripts} | {LATIN}:
        for bold in (False, True):
            _register(family, bold, str(font_dir()))


def coverage(family: str, *, bold: bool) -> frozenset[int]:
    """The code points `family` has glyphs for (registering it); none
    when its file is missing."""
    if not (font_dir() / f"{FILES[family]}-{'Bold' if bold else 'Regular'}.ttf").is_file():
        return frozenset()
    return _register(family, bold, str(font_dir()))
