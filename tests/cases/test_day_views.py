"""The manager's day in the browser (issue 20): a referral during the case,
its reminder and the outcome in one step from it, corrections and
cancellations, the network-contact register; access as on every case page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, ReadAccess
from cases import services
from cases.models import CaseStatus, Consultation, Correction, NetworkContact, Referral
from notifications.links import screen_notifications
from notifications.models import Notification, NotificationKind
from notifications.services import reminders_run
from tests.accounts.factories import TeamFactory
from tests.cases.factories import journey_to, manager_in, supervisor_of

pytestmark = pytest.mark.django_db


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def case() -> Any:
    return journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()))


def test_a_referral_is_recorded_from_the_case_page(case: Any) -> None:
    client = client_of(case.owner)
    url = reverse("cases:referral_new", args=[case.pk])
    today = timezone.localdate()

    form = client.get(url)
    bad = client.post(url, {"referred_on": today.isoformat(), "mode": "ACCOMPANIED"})
    posted = client.post(
        url,
        {
            "referred_on": today.isoformat(),
            "target_service": "jobcenter",
            "organisation": "Jobcenter Biberach",
            "mode": "ACCOMPANIED",
            "topic": "work",
        },
    )

    assert form.status_code == 200
    assert "Verweisung erfassen" in form.content.decode()
    assert bad.status_code == 400
    assert posted.status_code == 302
    referral = Referral.objects.get(case=case)
    assert (referral.target_service.key, referral.topic.key, referral.is_final) == (
        "jobcenter",
        "work",
        False,
    )
    assert ReadAccess.objects.filter(view="cases.referral_new").exists()


@override_settings(LOTSE_REFERRAL_FOLLOWUP_DAYS=14)
def test_a_pending_referral_reminds_once_and_the_outcome_is_one_step_from_it(case: Any) -> None:
    now = timezone.now()
    old = services.referral_record(
        case=case,
        actor=case.owner,
        now=now,
        referred_on=timezone.localdate(now) - timedelta(days=15),
        target_service="jobcenter",
        mode="APPOINTMENT_ARRANGED",
    )
    services.referral_record(  # too recent
        case=case,
        actor=case.owner,
        now=now,
        referred_on=timezone.localdate(now) - timedelta(days=3),
        target_service="mbe",
        mode="INFORMATION_ONLY",
    )
    cancelled = services.referral_record(
        case=case,
        actor=case.owner,
        now=now,
        referred_on=timezone.localdate(now) - timedelta(days=30),
        target_service="mbe",
        mode="INFORMATION_ONLY",
    )
    services.referral_cancel(referral=cancelled, actor=case.owner, now=now, reason="doppelt")

    written = reminders_run(now=now)
    again = reminders_run(now=now)

    reminders = Notification.objects.filter(kind=NotificationKind.REFERRAL_PENDING)
    assert [(n.recipient_id, n.case_id, n.params["referral"]) for n in reminders] == [
        (case.owner_id, case.pk, old.pk)
    ]
    assert written >= 1
    assert again == 0
    [shown] = screen_notifications(user=case.owner, notifications=reminders, now=now)
    assert shown.link == reverse("cases:referral_outcome", args=[case.pk, old.pk])
    assert "hat noch kein Ergebnis" in shown.text

    client = client_of(case.owner)
    page = client.get(shown.link)
    done = client.post(
        shown.link,
        {"outcome": "TAKEN_UP", "outcome_date": timezone.localdate(now).isoformat()},
    )

    assert page.status_code == 200
    assert done.status_code == 302
    old.refresh_from_db()
    assert (old.outcome, old.outcome_date) == ("TAKEN_UP", timezone.localdate(now))
    assert AuditEvent.objects.filter(
        event_type="cases.referral.updated", object_id=str(old.pk)
    ).exists()
    reminders_run(now=now + timedelta(days=1))
    assert Notification.objects.filter(kind=NotificationKind.REFERRAL_PENDING).count() == 1


def test_a_consultation_is_corrected_in_the_browser_with_before_and_after_in_the_history(
    case: Any,
) -> None:
    client = client_of(case.owner)
    consultation = Consultation.objects.get(case=case)
    url = reverse("cases:correction", args=[case.pk, "beratung", consultation.pk])
    new_day = consultation.held_on + timedelta(days=1)

    form = client.get(url)
    no_reason = client.post(
        url,
        {
            "action": "correct",
            "held_on": new_day.isoformat(),
            "duration_minutes": 45,
            "form": "office",
            "topics": ["language", "work"],
            "status": "COMPLETED",
        },
    )
    posted = client.post(
        url,
        {
            "action": "correct",
            "reason": "Datum falsch eingegeben",
            "held_on": new_day.isoformat(),
            "duration_minutes": 45,
            "form": "office",
            "topics": ["language", "work"],
            "status": "COMPLETED",
            "notes": "Sprachkurs besprochen",
        },
    )

    assert form.status_code == 200
    assert no_reason.status_code == 400
    assert posted.status_code == 302
    consultation.refresh_from_db()
    assert consultation.held_on == new_day
    correction = Correction.objects.get()
    assert set(correction.after) == {"held_on", "notes"}
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Datum falsch eingegeben" in html
    assert "Beratung korrigiert." in html
    assert "Sprachkurs besprochen" in html  # the notes, readable again


def test_an_entry_is_cancelled_with_a_reason_in_the_browser(case: Any) -> None:
    client = client_of(case.owner)
    consultation = Consultation.objects.get(case=case)
    url = reverse("cases:correction", args=[case.pk, "beratung", consultation.pk])

    empty = client.post(url, {"action": "cancel", "storno-reason": ""})
    posted = client.post(url, {"action": "cancel", "storno-reason": "im falschen Fall"})
    again = client.post(url, {"action": "cancel", "storno-reason": "nochmal"})

    assert empty.status_code == 400
    assert posted.status_code == 302
    assert again.status_code == 409
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.CANCELLED
    chronology = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "storniert" in chronology
    assert "im falschen Fall" in chronology


@pytest.mark.parametrize("kind", ["beratung", "verweisung", "bedarf", "ziel", "schritt"])
def test_the_correction_pages_open_for_each_kind(case: Any, kind: str) -> None:
    referral = services.referral_record(
        case=case,
        actor=case.owner,
        now=timezone.now(),
        referred_on=timezone.localdate(),
        target_service="jobcenter",
        mode="APPOINTMENT_ARRANGED",
    )
    ids = {
        "beratung": case.consultations.get().pk,
        "verweisung": referral.pk,
        "bedarf": case.assessments.get().pk,
        "ziel": case.plans.get().goals.get().pk,
        "schritt": case.plans.get().goals.get().measures.get().pk,
    }
    response = client_of(case.owner).get(
        reverse("cases:correction", args=[case.pk, kind, ids[kind]])
    )
    assert response.status_code == 200


def test_nested_pages_are_404_for_strangers_and_403_for_metadata_readers(case: Any) -> None:
    referral = services.referral_record(
        case=case,
        actor=case.owner,
        now=timezone.now(),
        referred_on=timezone.localdate(),
        target_service="jobcenter",
        mode="APPOINTMENT_ARRANGED",
    )
    consultation = case.consultations.get()
    urls = [
        reverse("cases:referral_outcome", args=[case.pk, referral.pk]),
        reverse("cases:correction", args=[case.pk, "beratung", consultation.pk]),
    ]
    other = journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()))
    stranger = client_of(other.owner)
    lead = client_of(supervisor_of(case.owner.team))
    owner = client_of(case.owner)

    for url in urls:
        assert stranger.get(url).status_code == 404
        assert stranger.post(url, {"action": "cancel", "storno-reason": "x"}).status_code == 404
        assert lead.get(url).status_code == 403
    # an entry of another case under this case's path, unknown ids and kinds
    assert owner.get(reverse("cases:referral_outcome", args=[case.pk, 10**9])).status_code == 404
    assert (
        owner.get(
            reverse("cases:correction", args=[case.pk, "beratung", other.consultations.get().pk])
        ).status_code
        == 404
    )
    assert owner.get(reverse("cases:correction", args=[case.pk, "unsinn", 1])).status_code == 404
    assert not Correction.objects.exists()


def test_the_network_register_records_lists_and_corrects() -> None:
    team = TeamFactory()
    manager, colleague = manager_in(team), manager_in(team)
    client = client_of(manager)
    url = reverse("network:register")
    today = timezone.localdate()

    page = client.get(url)
    future = client.post(
        url,
        {
            "contact_date": (today + timedelta(days=1)).isoformat(),
            "category": "internal_authorities",
            "organisation": "Ausländerbehörde",
            "format": "MEETING",
        },
    )
    posted = client.post(
        url,
        {
            "contact_date": today.isoformat(),
            "category": "internal_authorities",
            "organisation": "Ausländerbehörde",
            "format": "MEETING",
            "topic": "Sprechzeiten",
        },
    )
    contact = NetworkContact.objects.get()
    listed = client.get(url).content.decode()
    correction_url = reverse("network:correction", args=[contact.pk])
    foreign = client_of(colleague).get(correction_url)
    corrected = client.post(
        correction_url,
        {
            "action": "correct",
            "reason": "war ein Telefonat",
            "contact_date": today.isoformat(),
            "category": "internal_authorities",
            "organisation": "Ausländerbehörde",
            "format": "PHONE",
            "topic": "Sprechzeiten",
        },
    )
    cancelled = client.post(correction_url, {"action": "cancel", "storno-reason": "doppelt"})
    supervisor = client_of(supervisor_of(team)).get(url)

    assert page.status_code == 200
    assert future.status_code == 400
    assert posted.status_code == 302
    assert "Ausländerbehörde" in listed
    assert "Sprechzeiten" in listed
    assert foreign.status_code == 404
    assert corrected.status_code == 302
    assert cancelled.status_code == 302
    contact.refresh_from_db()
    assert contact.format == "PHONE"
    assert contact.cancelled_at is not None
    assert supervisor.status_code == 403
