"""Contrast of the colours in static/lotse.css (WCAG 2.2 AA).

Text needs 4.5:1 against its background; focus rings and control borders
3:1 against what surrounds them. The colours are read from the stylesheet,
so a change to a lighter grey fails here instead of in front of a client.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[2] / "static" / "lotse.css").read_text()
WHITE = "#ffffff"


def declared(selector: str, prop: str) -> str:
    """The colour `prop` of the rule that starts with `selector`."""
    rule = re.search(r"(?:^|\})\s*" + re.escape(selector) + r"\s*\{([^}]*)\}", CSS, re.M)
    assert rule is not None, f"no rule {selector}"
    value = re.search(r"(?:^|;)\s*" + re.escape(prop) + r"\s*:[^;#]*(#[0-9a-fA-F]{3,6})", rule[1])
    assert value is not None, f"{selector} has no {prop}"
    return value[1]


def luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21)
    assert contrast("#777777", WHITE) == pytest.approx(4.48, abs=0.01)


TEXT = 4.5
NON_TEXT = 3.0


@pytest.mark.parametrize(
    ("what", "foreground", "background", "minimum"),
    [
        ("body text on the page", ("body", "color"), ("body", "background"), TEXT),
        ("body text on a card", ("body", "color"), WHITE, TEXT),
        ("hints", (".hint", "color"), WHITE, TEXT),
        ("errors", (".error", "color"), WHITE, TEXT),
        ("buttons", WHITE, ("button", "background"), TEXT),
        ("the main action", WHITE, ("a.button.primary,button.primary", "background"), TEXT),
        ("secondary buttons", ("a.button.secondary", "color"), WHITE, TEXT),
        ("the top bar", WHITE, (".topbar", "background"), TEXT),
        ("badges", ("body", "color"), (".badge", "background"), TEXT),
        ("error badges", (".badge.error", "color"), (".badge.error", "background"), TEXT),
        ("the demo banner", (".banner.warning", "color"), (".banner.warning", "background"), TEXT),
        ("steps under a goal", ("ul.steps", "color"), WHITE, TEXT),
        ("times in the timeline", ("ol.timeline time", "color"), WHITE, TEXT),
        (
            "focus ring on white",
            (
                "button:focus,a:focus,input:focus,select:focus,textarea:focus,[tabindex]:focus",
                "outline",
            ),
            WHITE,
            NON_TEXT,
        ),
        (
            "focus ring on the top bar",
            (".topbar a:focus,.topbar button:focus", "outline-color"),
            (".topbar", "background"),
            NON_TEXT,
        ),
        ("option borders", ("label.option", "border"), WHITE, NON_TEXT),
        (
            "chosen option",
            ("body", "color"),
            ("label.option:has(input:checked)", "background"),
            TEXT,
        ),
    ],
)
def test_colours_have_enough_contrast(
    what: str, foreground: object, background: object, minimum: float
) -> None:
    fore = declared(*foreground) if isinstance(foreground, tuple) else foreground
    back = declared(*background) if isinstance(background, tuple) else background
    assert contrast(fore, back) >= minimum, (what, fore, back, round(contrast(fore, back), 2))


def test_the_pages_adapt_to_a_tablet() -> None:
    assert "@media (max-width:900px)" in CSS
    assert "min-height:2.75rem" in CSS  # touch targets of 44 px
    assert re.search(r"\.topbar nav\{[^}]*flex-wrap:wrap", CSS)
