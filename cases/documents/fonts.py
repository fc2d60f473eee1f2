"""The fonts of the client documents, registered with reportlab by path.

Debian's fonts-noto-core provides them (SIL Open Font License); `make`
installs it through `scripts/ensure_fonts.sh`. `LOTSE_FONT_DIR` points
elsewhere (a directory holding the same file names). Each script has its
font; a character the script's font lacks (Latin letters or brackets in an
Arabic line, digits in an Ethiopic one) falls back to Noto Sans.

German and English documents still print on a machine without Noto (a bare
`make run` without root): their Latin text then uses Bitstream Vera, which
reportlab ships. Every other language needs its fonts and is refused with a
message naming the package otherwise (503), never printed with gaps.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import reportlab
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
VERA = Path(reportlab.__file__).parent / "fonts"


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
    """The reportlab name of `family`'s font (Vera's own when it stands in)."""
    path = _path(family, bold)
    base = path.stem.split("-")[0] if path is not None else FILES[family]
    return f"Lotse{base}-{'Bold' if bold else 'Regular'}"


def _file(family: str, bold: bool) -> str:
    return f"{FILES[family]}-{'Bold' if bold else 'Regular'}.ttf"


def _path(family: str, bold: bool) -> Path | None:
    return _resolve(str(font_dir()), family, bold)


@cache
def _resolve(directory: str, family: str, bold: bool) -> Path | None:
    path = Path(directory) / _file(family, bold)
    if path.is_file():
        return path
    if family == LATIN:
        return VERA / ("VeraBd.ttf" if bold else "Vera.ttf")
    return None


def missing_files(scripts: set[str], *, latin_fallback: bool) -> list[str]:
    """The font files `scripts` need that the font directory lacks."""
    families = {SCRIPT_FONT[script] for script in scripts} | {LATIN}
    return [
        _file(family, bold)
        for family in sorted(families)
        for bold in (False, True)
        if not (font_dir() / _file(family, bold)).is_file()
        and not (family == LATIN and latin_fallback)
    ]


@cache
def _register(family: str, bold: bool, path: str) -> frozenset[int]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    font = TTFont(font_name(family, bold=bold), path)  # the name follows the path
    pdfmetrics.registerFont(font)
    return frozenset(font.face.charToGlyph)


def ensure(scripts: set[str], *, latin_fallback: bool = False) -> None:
    """Check the fonts `scripts` need (and Noto Sans, unless
    `latin_fallback` allows Vera) are there, or raise FontsMissing."""
    missing = missing_files(scripts, latin_fallback=latin_fallback)
    if missing:
        raise FontsMissing(missing)


def coverage(family: str, *, bold: bool) -> frozenset[int]:
    """The code points `family` has glyphs for (registering it); none
    when its file is missing."""
    path = _path(family, bold)
    if path is None:
        return frozenset()
    return _register(family, bold, str(path))
