"""Text in any of the documents' scripts, laid out for reportlab.

reportlab's own right-to-left support needs `rlbidi`, which is not on PyPI,
so the documents lay out their text here, the usual way for PDF writers:

1. Arabic-script text is shaped in logical order (`arabic_reshaper`: each
   letter becomes its contextual presentation form, lam-alef a ligature),
2. words are filled into lines of the available width (in logical order),
3. each line is put into visual order by the Unicode bidirectional
   algorithm (`python-bidi`), base direction right-to-left for Arabic and
   Dari/Farsi, and drawn right-aligned,
4. each run of characters is drawn in the font of its script (Noto Sans
   Arabic, Noto Sans Ethiopic, Noto Sans for Latin and Cyrillic); a
   character that font lacks falls back to Noto Sans.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import arabic_reshaper

# The pure-Python implementation: it mirrors brackets in right-to-left runs,
# which python-bidi's Rust `bidi.get_display` leaves to the renderer.
from bidi.algorithm import get_display
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from cases.documents import fonts
from cases.documents.languages import ARABIC, ETHIOPIC, LATIN

# Marks that steer shaping and direction but have no glyph of their own.
_FORMAT = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c]")
_SPACE = re.compile(r"[ \t]+")


def script_of(char: str) -> str | None:
    """The font family a letter needs; None for digits, spaces and
    punctuation (they take the font of their neighbours)."""
    code = ord(char)
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return ARABIC if unicodedata.category(char).startswith("L") else None
    if 0x1200 <= code <= 0x139F or 0x2D80 <= code <= 0x2DDF or 0xAB00 <= code <= 0xAB2F:
        return ETHIOPIC if unicodedata.category(char).startswith("L") else None
    if char.isalpha():
        return LATIN
    return None


def has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def shape(text: str) -> str:
    """Arabic letters in their contextual forms (logical order kept)."""
    if not any(0x0600 <= ord(c) <= 0x06FF or 0x0750 <= ord(c) <= 0x077F for c in text):
        return text
    return arabic_reshaper.reshape(text)


def visual(line: str, *, rtl: bool) -> str:
    """One laid-out line in the order it is drawn, left to right."""
    if rtl or has_rtl(line):
        line = get_display(line, base_dir="R" if rtl else "L")
    return _FORMAT.sub("", line)


def runs(text: str, *, bold: bool) -> list[tuple[str, str]]:
    """Split `text` into (font name, characters) runs; characters no font
    has are dropped rather than drawn as empty boxes."""
    return _runs(text, bold, str(fonts.font_dir()))


@lru_cache(maxsize=20_000)
def _runs(text: str, bold: bool, _directory: str) -> list[tuple[str, str]]:
    covered = {family: fonts.coverage(family, bold=bold) for family in (LATIN, ARABIC, ETHIOPIC)}
    names = {family: fonts.font_name(family, bold=bold) for family in covered}
    result: list[tuple[str, str]] = []
    previous: str | None = None
    for char in text:
        wanted = script_of(char)
        candidates = (wanted or previous or LATIN, previous, LATIN, ARABIC, ETHIOPIC)
        family = next((f for f in candidates if f and ord(char) in covered[f]), None)
        if family is None:
            continue
        name = names[family]
        if result and result[-1][0] == name:
            result[-1] = (name, result[-1][1] + char)
        else:
            result.append((name, char))
        previous = family
    return result


def width(text: str, *, size: float, bold: bool) -> float:
    return _width(text, size, bold, str(fonts.font_dir()))


@lru_cache(maxsize=20_000)
def _width(text: str, size: float, bold: bool, _directory: str) -> float:
    return sum(stringWidth(chunk, name, size) for name, chunk in runs(text, bold=bold))


def draw(canvas: Any, x: float, y: float, line: str, *, size: float, bold: bool) -> float:
    """Draw a visual-order line starting at x; return its width."""
    start = x
    for name, chunk in runs(line, bold=bold):
        canvas.setFont(name, size)
        canvas.drawString(x, y, chunk)
        x += stringWidth(chunk, name, size)
    return x - start


def _wrap(text: str, max_width: float, *, size: float, bold: bool) -> list[str]:
    """Fill the words of one paragraph (logical order) into lines."""
    lines: list[str] = []
    current = ""
    current_width = 0.0
    space = width(" ", size=size, bold=bold)
    for word in _SPACE.split(text.strip()):
        if not word:
            continue
        word_width = width(word, size=size, bold=bold)
        candidate_width = current_width + space + word_width if current else word_width
        if candidate_width <= max_width:
            current = f"{current} {word}" if current else word
            current_width = candidate_width
            continue
        if current:
            lines.append(current)
        current = ""
        # A word longer than the line is broken where it has to be.
        while width(word, size=size, bold=bold) > max_width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and width(word[:cut], size=size, bold=bold) > max_width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
        current_width = width(word, size=size, bold=bold)
    if current or not lines:
        lines.append(current)
    return lines


class Text(Flowable):
    """A paragraph in any script: wrapped, shaped, in visual order, each run
    in its script's font. `rtl=None` takes the direction of the text's first
    strong letter; right-to-left text is right-aligned."""

    def __init__(
        self,
        text: Any,
        *,
        size: float = 10,
        leading: float | None = None,
        bold: bool = False,
        rtl: bool | None = None,
        align: str | None = None,
        space_before: float = 0,
        space_after: float = 0,
        color: Any = None,
        lines: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.text = "" if text is None else str(text)
        self.size = size
        self.leading = leading or size * 1.3
        self.bold = bold
        if rtl is None:
            strong = next(
                (
                    unicodedata.bidirectional(c)
                    for c in self.text
                    if unicodedata.bidirectional(c) in ("L", "R", "AL")
                ),
                "L",
            )
            rtl = strong in ("R", "AL")
        self.rtl = rtl
        self.align = align or ("right" if rtl else "left")
        self.spaceBefore = space_before
        self.spaceAfter = space_after
        self.color = color
        self._lines = lines
        self._laid_for: float | None = None

    def _layout(self, avail_width: float) -> list[str]:
        if self._lines is not None and self._laid_for is None:
            return self._lines
        if self._laid_for != avail_width or self._lines is None:
            logical: list[str] = []
            for paragraph in self.text.split("\n"):
                logical += _wrap(shape(paragraph), avail_width, size=self.size, bold=self.bold)
            self._lines = [visual(line, rtl=self.rtl) for line in logical]
            self._laid_for = avail_width
        return self._lines

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        lines = self._layout(availWidth)
        self.height = len(lines) * self.leading
        return availWidth, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        lines = self._layout(availWidth)
        fit = int(availHeight // self.leading)
        if fit <= 0 or fit >= len(lines):
            return [] if fit <= 0 else [self]
        options = {
            "size": self.size,
            "leading": self.leading,
            "bold": self.bold,
            "rtl": self.rtl,
            "align": self.align,
            "color": self.color,
        }
        first = Text(self.text, **options, space_before=self.spaceBefore, lines=lines[:fit])
        rest = Text(self.text, **options, space_after=self.spaceAfter, lines=lines[fit:])
        return [first, rest]

    def draw(self) -> None:
        canvas = self.canv
        if self.color is not None:
            canvas.setFillColor(self.color)
        y = self.height - self.size
        for line in self._lines or []:
            line_width = width(line, size=self.size, bold=self.bold)
            if self.align == "right":
                x = self.width - line_width
            elif self.align == "center":
                x = (self.width - line_width) / 2
            else:
                x = 0
            draw(canvas, x, y, line, size=self.size, bold=self.bold)
            y -= self.leading
