"""Issue 18 in the browser (Django test client): an Art. 9 consent with its
scan, the extension step pointing to it, a plan agreed after a decline, the
DPO's legal hold; the service tests are in test_voluntariness.py."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from cases import services
from cases.demo import add_complete_goal
from cases.models import CaseStatus, Consent, Document
from tests.accounts.factories import TeamFactory, UserFactory
from tests.cases.factories import journey_to, manager_in

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% Einwilligung\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def active():
    return journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()), now=timezone.now())


def test_art9_consent_and_its_scan_recorded_in_the_browser(active) -> None:
    client = client_of(active.owner)
    page = reverse("cases:consents", args=[active.pk])
    form = client.get(page + "?umfang=special_categories_art9&weiter=/aufgaben/")
    assert form.status_code == 200
    assert 'value="SPECIAL_CATEGORIES_ART9" selected' in form.content.decode()
    response = client.post(
        page,
        {
            "action": "record",
            "scope": "SPECIAL_CATEGORIES_ART9",
            "form": "SIGNED_PAPER",
            "language": "ar",
            "given_by": "PERSON",
            "weiter": "/aufgaben/",
        },
    )
    assert (response.status_code, response["Location"]) == (302, "/aufgaben/")
    consent = Consent.objects.get(case=active, scope="SPECIAL_CATEGORIES_ART9")
    assert consent.legal_basis == "CONSENT_ART9_2A"
    assert AuditEvent.objects.filter(
        case_id=active.pk, event_type="cases.consent.recorded", reason="SPECIAL_CATEGORIES_ART9"
    ).exists()

    fake = client.post(
        page,
        {"action": "evidence", "consent": consent.pk, "file": SimpleUploadedFile("a.pdf", b"MZ..")},
    )
    assert fake.status_code == 200
    assert "PDF, PNG oder JPEG" in fake.content.decode()
    consent.refresh_from_db()
    assert consent.evidence_id is None
    stored = client.post(
        page,
        {"action": "evidence", "consent": consent.pk, "file": SimpleUploadedFile("a.pdf", PDF)},
    )
    assert stored.status_code == 302
    consent.refresh_from_db()
    document = Document.objects.get(pk=consent.evidence_id)
    assert (document.kind, document.sensitivity) == ("CONSENT_FORM", "ART9")
    assert "cases.consent.evidence_attached" in AuditEvent.objects.filter(
        case_id=active.pk
    ).values_list("event_type", flat=True)


def test_plan_agreed_after_a_decline_in_the_browser() -> None:
    now = timezone.now()
    case = journey_to(CaseStatus.PLANNING, owner=manager_in(TeamFactory()), now=now)
    case = services.case_transition(
        case=case, name="decline_plan", actor=case.owner, now=now, reason="später"
    )
    client = client_of(case.owner)
    detail = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    page = reverse("cases:plan_pending", args=[case.pk])
    assert page in detail
    assert client.post(page, {"action": "draft"}).status_code == 302
    add_complete_goal(case, now)
    refused = client.post(page, {"action": "agree"})
    assert refused.status_code == 200  # the form asks for the agreement's form and language
    response = client.post(
        page, {"action": "agree", "agreement_form": "SIGNATURE", "agreement_language": "ar"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert not case.plan_declined
    assert case.plans.get(status="AGREED").version == 1


def test_dpo_sets_and_lifts_the_legal_hold_in_the_browser(active) -> None:
    dpo = UserFactory(role=Role.DATA_PROTECTION_OFFICER, team=None, traeger=active.traeger)
    client = client_of(dpo)
    detail = client.get(reverse("cases:detail", args=[active.pk])).content.decode()
    assert "Aufbewahrungssperre setzen" in detail
    hold = reverse("cases:legal_hold", args=[active.pk])
    client.post(hold, {"action": "set", "reason": "Klage anhängig"})
    active.refresh_from_db()
    assert active.legal_hold
    client.post(hold, {"action": "lift"})
    active.refresh_from_db()
    assert not active.legal_hold
    types = list(AuditEvent.objects.filter(case_id=active.pk).values_list("event_type", flat=True))
    assert "cases.case.legal_hold_set" in types
    assert "cases.case.legal_hold_lifted" in types
    # The owner may not set it.
    assert client_of(active.owner).post(hold, {"action": "set", "reason": "x"}).status_code == 403


def test_goal_added_to_an_agreed_plan_in_the_browser_waits_for_agreement(active) -> None:
    client = client_of(active.owner)
    page = reverse("cases:plan_pending", args=[active.pk])
    detail = reverse("cases:detail", args=[active.pk])
    assert page in client.get(detail).content.decode()
    target = (timezone.localdate() + timezone.timedelta(days=90)).isoformat()
    response = client.post(
        page,
        {
            "action": "add_goal",
            "field_of_action": "work",
            "title": "Praktikum im Handwerk",
            "success_criterion": "Praktikumsvertrag",
            "target_date": target,
            "measure": "Bewerbung schreiben",
            "responsible": "CLIENT",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    agreed = active.plans.get(status="AGREED")
    change = active.plans.get(status="REVISION")
    assert (agreed.goals.count(), change.goals.count()) == (1, 2)
    html = client.get(page).content.decode()
    assert "gilt weiter" in html
    assert "Praktikum im Handwerk" not in client.get(detail).content.decode()
    response = client.post(
        page, {"action": "agree", "agreement_form": "SIGNATURE", "agreement_language": "ar"}
    )
    assert response.status_code == 302
    agreed.refresh_from_db()
    change.refresh_from_db()
    assert (agreed.status, change.status) == ("SUPERSEDED", "AGREED")
    assert "Praktikum im Handwerk" in client.get(detail).content.decode()
