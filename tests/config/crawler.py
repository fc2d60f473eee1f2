"""A bounded crawler over the German screens, as one signed-in user sees them.

`crawl(client)` starts at the start page, follows every link within the
site (GET only, never a form), and reports what a German reader should
never see: a code (``REGISTERED``, ``multiple_problems``), a template
comment, an English phrase, a link that answers 404 or 500, any 500.
Used by tests/config/test_screens.py for each demo role.
"""

from __future__ import annotations

import gettext
import re
from collections import deque
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

from django.apps import apps
from django.conf import settings

# Paths never followed: signing out ends the crawl, the admin is Django's own
# (German, but its change lists show stored values by design), the API and
# its schema are JSON for programs, the static files are no pages.
SKIP_PREFIXES = ("/accounts/logout", "/admin/", "/api/", "/static/", "/media/")
# Downloads are fetched (they must not answer 404/500) but not read as pages.
DOWNLOAD_TYPES = ("application/pdf", "text/csv", "application/json", "application/vnd")

# Visible words that mark English on a German page. Words that are also
# German (die, in, an, so, was) are left out.
ENGLISH_WORDS = {
    "the", "and", "of", "to", "with", "for", "from", "your", "you", "this", "that", "is",
    "are", "has", "have", "not", "no", "yes", "skip", "content", "page", "none", "true",
    "false", "case", "cases", "task", "tasks", "status", "reason", "step", "view", "open",
    "closed", "back", "save", "cancel", "delete", "edit", "search", "next", "previous",
    "submit", "sign", "out", "more", "all", "other", "unknown", "client", "member",
    "members", "household", "consent", "referral", "handover", "request", "approved",
    "rejected", "pending", "due", "overdue", "today", "by",
}  # fmt: skip
# German words that the list above would flag (same spelling in both).
GERMAN_HOMOGRAPHS = {"status", "all", "open", "so"}
ENGLISH_WORDS -= GERMAN_HOMOGRAPHS

UPPER_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
SNAKE_KEY = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
DOTTED_NAME = re.compile(r"\b[a-z_]+\.[a-z_]+\.?[a-z_]*\b")
TEMPLATE_SYNTAX = re.compile(r"\{#|#\}|\{%|%\}|\{\{|\}\}")


@dataclass
class Finding:
    url: str
    kind: str
    text: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.text!r} on {self.url}"


@dataclass
class CrawlResult:
    findings: list[Finding] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)


class _Page(HTMLParser):
    """Visible text (and the texts a screen reader speaks) and the links."""

    SILENT = {"script", "style", "template", "head", "title"}
    SPOKEN_ATTRS = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._silent = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in self.SILENT:
            self._silent += 1
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        for name in self.SPOKEN_ATTRS:
            if values.get(name):
                self.texts.append(values[name] or "")
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.texts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SILENT and self._silent:
            self._silent -= 1

    def handle_data(self, data: str) -> None:
        if not self._silent and data.strip():
            self.texts.append(data.strip())


@cache
def stored_codes() -> frozenset[str]:
    """Every stored value of every choice field of Lotse's own models."""
    codes: set[str] = set()
    for model in apps.get_models():
        if model.__module__.split(".")[0] not in {
            "accounts", "audit", "cases", "handover", "workflows", "notifications",
            "reports", "dataprotection", "workspace",
        }:  # fmt: skip
            continue
        for model_field in model._meta.get_fields():
            for value, _label in getattr(model_field, "flatchoices", None) or []:
                if isinstance(value, str) and len(value) > 2 and value.isupper():
                    codes.add(value)
    return frozenset(codes)


@cache
def english_msgids() -> tuple[str, ...]:
    """English source phrases of the German catalogue (two words or more)."""
    catalogue: dict[object, str] = {}
    base = Path(settings.BASE_DIR)
    catalogues = [base / "locale/de/LC_MESSAGES/django.mo"]
    catalogues += sorted(base.glob("*/locale/de/LC_MESSAGES/django.mo"))
    for mo_file in catalogues:
        with mo_file.open("rb") as handle:
            catalogue |= gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    phrases = set()
    for msgid, msgstr in catalogue.items():
        if not isinstance(msgid, str):
            continue  # plural forms: (msgid, index)
        text = msgid.strip()
        if (
            msgstr
            and msgstr != msgid
            and len(text.split()) >= 2
            and "%" not in text
            and "{" not in text
        ):
            phrases.add(text)
    return tuple(sorted(phrases, key=len, reverse=True))


def text_findings(url: str, texts: list[str]) -> list[Finding]:
    findings: list[Finding] = []
    codes = stored_codes()
    msgids = english_msgids()
    for text in texts:
        for match in UPPER_CODE.findall(text):
            findings.append(Finding(url, "code", match))
        for word in re.findall(r"\b[A-Z]{3,}\b", text):
            if word in codes:
                findings.append(Finding(url, "code", word))
        for match in SNAKE_KEY.findall(text):
            findings.append(Finding(url, "key", match))
        for match in DOTTED_NAME.findall(text):
            if "@" not in text and not match.endswith((".de", ".pdf", ".csv")):
                findings.append(Finding(url, "dotted name", match))
        if TEMPLATE_SYNTAX.search(text):
            findings.append(Finding(url, "template syntax", text[:80]))
        words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
        english = words & ENGLISH_WORDS
        if english:
            findings.append(Finding(url, "english", f"{text[:80]} ({', '.join(sorted(english))})"))
        for msgid in msgids:
            if msgid in text:
                findings.append(Finding(url, "english msgid", msgid))
                break
    return findings


def _normal(base: str, href: str) -> str | None:
    href, _fragment = urldefrag(href.strip())
    if not href or href.startswith(("mailto:", "tel:", "javascript:")):
        return None
    absolute = urljoin(base, href)
    parts = urlsplit(absolute)
    if parts.netloc and parts.netloc not in {"testserver", ""}:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if path.startswith(SKIP_PREFIXES):
        return None
    return path


def _shape(path: str) -> str:
    """The URL with ids and query values blanked: pages of one kind."""
    return re.sub(r"=[^&]*", "=", re.sub(r"\d+", "N", path))


def crawl(
    client,
    *,
    starts: tuple[str, ...] = ("/",),
    per_shape: int = 12,
    per_query: int = 3,
    limit: int = 500,
) -> CrawlResult:
    """Visit what `client`'s user can reach from `starts` (the start page,
    and pages only a search form leads to), and judge it."""
    result = CrawlResult()
    seen: set[str] = set(starts)
    shapes: dict[str, int] = {}
    queue: deque[tuple[str, str]] = deque((start, start) for start in starts)
    while queue and len(result.pages) + len(result.downloads) < limit:
        path, came_from = queue.popleft()
        try:
            response = client.get(path, HTTP_ACCEPT_LANGUAGE="de")
        except Exception as error:  # noqa: BLE001 - the test client re-raises a 500's cause
            result.findings.append(
                Finding(path, "answer 500", f"{type(error).__name__} (linked from {came_from})")
            )
            continue
        status = response.status_code
        if status >= 500:
            result.findings.append(Finding(path, f"answer {status}", f"linked from {came_from}"))
            continue
        if status == 404:
            result.findings.append(Finding(path, "answer 404", f"linked from {came_from}"))
            continue
        if status in {301, 302, 303}:
            target = _normal(path, response["Location"])
            if target and target not in seen:
                seen.add(target)
                queue.append((target, came_from))
            continue
        content_type = response.get("Content-Type", "")
        if content_type.startswith(DOWNLOAD_TYPES):
            result.downloads.append(path)
            continue
        if status != 200 or not content_type.startswith("text/html"):
            continue
        result.pages.append(path)
        body = response.content.decode()
        page = _Page()
        page.feed(body)
        result.findings.extend(text_findings(path, page.texts))
        for href in page.links:
            target = _normal(path, href)
            if target is None or target in seen:
                continue
            shape = _shape(target)
            if shapes.get(shape, 0) >= (per_query if "?" in shape else per_shape):
                continue
            shapes[shape] = shapes.get(shape, 0) + 1
            seen.add(target)
            queue.append((target, path))
    return result
