"""Each demo role's main pages at 390, 768 and 1366 px, in Chromium.

Screenshots land in var/artifacts/screens/<role>/ (git-ignored) for a
person to look at; the test fails when a page is wider than the screen
(a table that overflows) or when the navigation wraps on a laptop
(1366 px). Skipped without Chromium, a failure in CI, like the browser
journey (tests/cases/test_browser_journey.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD, USERS
from tests.cases.factories import ensure_catalogues
from tests.cases.test_browser_journey import browser  # noqa: F401 - the fixture

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "screens"
WIDTHS = (390, 768, 1366)
# Besides the navigation: the first link of these kinds on the start page.
DETAIL_LINKS = (
    r"^/faelle/\d+/$",
    r"^/aufgaben/ablauf/",
    r"^/pruefung/fall/\d+/$",
    r"^/uebergaben/\d+/$",
)


def _serve_static(route: Any) -> None:
    """Answer /static/ from the finders: the live server serves only a
    collected STATIC_ROOT once the staticfiles app is a custom config
    (config.apps.LotseStaticFilesConfig), and tests collect nothing."""
    from urllib.parse import urlsplit

    from django.contrib.staticfiles import finders

    found = finders.find(urlsplit(route.request.url).path.removeprefix("/static/"))
    if found:
        route.fulfill(path=found)
    else:
        route.fulfill(status=404, body="")


def _main_pages(page: Any, base: str) -> list[str]:
    links = page.evaluate(
        "() => [...document.querySelectorAll('header nav a, main a')]"
        ".map(a => a.getAttribute('href'))"
    )
    nav = page.evaluate(
        "() => [...document.querySelectorAll('header nav a')].map(a => a.getAttribute('href'))"
    )
    pages = ["/", *[href for href in nav if href and href.startswith("/")]]
    for pattern in DETAIL_LINKS:
        found = next((h for h in links if h and re.match(pattern, h)), None)
        if found:
            pages.append(found)
    return list(dict.fromkeys(pages))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_main_pages_of_every_role_fit_phone_tablet_and_laptop(
    browser: Any,  # noqa: F811 - the fixture imported above
    live_server: Any,
) -> None:
    ensure_catalogues()  # a transactional test before may have flushed them
    call_command("seed_demo")
    problems: list[str] = []
    for user in USERS:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="de-DE")
        context.route("**/static/**", _serve_static)
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Benutzername").fill(user.username)
        page.get_by_label("Passwort").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url(re.compile(r".*/$"))
        folder = ARTIFACTS / user.username
        folder.mkdir(parents=True, exist_ok=True)
        for path in _main_pages(page, live_server.url):
            name = re.sub(r"[^a-z0-9]+", "-", path.strip("/").lower()) or "start"
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(live_server.url + path)
                page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                if overflow > 0:
                    problems.append(f"{user.username} {path} at {width}px: {overflow}px too wide")
                if width == 1366:
                    rows = page.evaluate(
                        """() => { const items = [...document.querySelectorAll('header nav > *')];
                                   if (!items.length) return 1;
                                   const first = items[0].getBoundingClientRect();
                                   return items.some(
                                       el => el.getBoundingClientRect().top >= first.bottom)
                                       ? 2 : 1; }"""
                    )
                    if rows > 1:
                        problems.append(f"{user.username} {path}: the menu wraps at 1366px")
        context.close()
    (ARTIFACTS / "problems.txt").write_text("\n".join(problems) + "\n")
    assert problems == []
