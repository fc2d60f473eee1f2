"""Irreversible steps ask first, say what will happen, and act only then."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from cases.models import CaseStatus
from tests.cases.factories import journey_to

pytestmark = pytest.mark.django_db


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def test_starting_the_closing_asks_first_and_acts_on_the_second_submit() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    web = Client()
    web.force_login(case.owner)
    url = reverse("workflows:case_action", args=[case.pk, "start_closing"])
    events = AuditEvent.objects.filter(case_id=case.pk).count()

    first = web.post(url, {"ground": "CLIENT_REQUEST"})

    html = first.content.decode()
    assert first.status_code == 200
    assert '<h1 id="confirm-heading">Den Abschluss des Falls wirklich beginnen?</h1>' in html
    assert "Das lässt sich nicht rückgängig machen." in html
    assert f'action="{url}"' in html
    assert f'href="/aufgaben/fall/{case.pk}/">Abbrechen und zurück</a>' in html
    # The question is a page of its own, answered by a second submit: no
    # script asks it (base.html loads static/lotse.js, which only adds a
    # browser dialog to forms marked data-confirm; none here, none inline).
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "data-confirm" not in html
    assert "onclick" not in html
    carried = _hidden(html)
    carried.pop("csrfmiddlewaretoken")  # a fresh token of the confirmation form
    assert carried == {"ground": "CLIENT_REQUEST", "confirmed": "1"}
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE
    assert AuditEvent.objects.filter(case_id=case.pk).count() == events

    second = web.post(url, carried)

    assert second.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSING


def test_an_invalid_form_is_shown_again_instead_of_asking() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    web = Client()
    web.force_login(case.owner)

    response = web.post(reverse("workflows:case_action", args=[case.pk, "start_closing"]), {})

    assert response.status_code == 400
    assert "confirm-heading" not in response.content.decode()


def test_pausing_is_not_asked_twice() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    web = Client()
    web.force_login(case.owner)

    response = web.post(
        reverse("workflows:case_action", args=[case.pk, "pause"]), {"reason": "CLIENT_REQUEST"}
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DORMANT


def test_required_fields_are_marked_and_the_legend_is_on_the_page() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    web = Client()
    web.force_login(case.owner)

    html = web.get(reverse("workflows:case", args=[case.pk])).content.decode()

    assert (
        'Warum der Fall abgeschlossen wird</label><span class="required-mark" aria-hidden="true"> *'
        in html
    )
    assert "Mit * markierte Felder müssen ausgefüllt werden." in html
