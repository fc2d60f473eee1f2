"""Every screen in plain German, for each of the eight demo roles.

Signs in as each demo user of `manage.py seed_demo`, visits every page the
user can reach from the start page by following links (bounded per kind of
page), and fails on a visible code, a snake_case key, a template comment,
an English phrase, a link that answers 404 or 500, or any 500.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD, USERS
from tests.config.crawler import Finding, crawl, text_findings

pytestmark = pytest.mark.django_db

FINDINGS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "screens" / "crawl"
# Pages behind a search form (GET), which links alone do not reach.
SEARCHES = {
    "dpo": ("/datenschutz/?person=Haddad", "/datenschutz/?person=1"),
    "auditor": ("/pruefung/zugriffe/nutzer/?nutzer=1",),
}
ROLES = [user.username for user in USERS]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo data once for the module (seeding takes seconds), inside a
    transaction rolled back at the end, as setUpTestData does: the tests'
    own transactions nest in it and nothing is left for other modules."""
    from django.db import transaction

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo")
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.parametrize("username", ROLES)
def test_every_reachable_screen_is_plain_german(demo, client, username: str) -> None:
    assert client.login(username=username, password=DEMO_PASSWORD)

    result = crawl(client, starts=("/", *SEARCHES.get(username, ())))

    FINDINGS.mkdir(parents=True, exist_ok=True)
    (FINDINGS / f"{username}.txt").write_text(
        "\n".join(
            [
                *map(str, result.findings),
                "",
                "pages:",
                *result.pages,
                "",
                "downloads:",
                *result.downloads,
            ]
        )
        + "\n"
    )
    assert result.pages, "the start page did not answer"
    assert [str(finding) for finding in result.findings] == []


def test_the_crawler_sees_codes_comments_english_and_keys() -> None:
    texts = [
        "Status: REGISTERED",
        "Grund: multiple_problems",
        "{# Only what the decision needs #}",
        "Skip to content",
        "Ansicht workflows.first_consultation",
        "Alles in Ordnung",
    ]

    findings = text_findings("/x/", texts)

    kinds = [(finding.kind, finding.text) for finding in findings]
    assert ("code", "REGISTERED") in kinds
    assert ("key", "multiple_problems") in kinds
    assert ("template syntax", "{# Only what the decision needs #}") in kinds
    assert ("english", "Skip to content (content, skip, to)") in kinds
    assert ("dotted name", "workflows.first_consultation") in kinds
    assert not [f for f in findings if f.text.startswith("Alles")]
    assert isinstance(findings[0], Finding)


def test_the_flow_diagram_keeps_the_task_titles_as_written(demo, client) -> None:
    import re

    from workflows.models import CaseProcess

    assert client.login(username="manager", password=DEMO_PASSWORD)
    process = (
        CaseProcess.objects.filter(case__owner__username="manager", case__status="REGISTERED")
        .order_by("pk")
        .first()
    )

    svg = client.get(f"/aufgaben/ablauf/{process.pk}.svg").content.decode()

    texts = set(re.findall(r">([^<>]+)</text>", svg))
    assert "Übergabe annehmen" in texts
    assert "Übergabe Annehmen" not in texts
    assert "Prüfen, ob eine" in texts
