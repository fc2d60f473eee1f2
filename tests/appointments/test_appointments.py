"""Appointments (issue 20): planning, the week, the no-show that becomes a
K2x consultation, the sweep (reminders, no-shows), the secret iCal link,
and the appointment letter (issue 21)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from appointments import services
from appointments.models import Appointment
from audit.models import AuditEvent
from cases.models import Consultation
from cases.services import CaseNotFound, GuardFailed, InvalidArguments
from notifications.models import Notification, NotificationKind
from tests.cases.test_views import SECRET, World, client_of, w  # noqa: F401

pytestmark = pytest.mark.django_db


def plan(w: World, *, hours: float = 30, **kwargs):  # noqa: F811
    now = timezone.now()
    args = {
        "starts_at": now + timedelta(hours=hours),
        "duration_minutes": 45,
        "form": "office",
        "topic": "work",
        "place": "Rathaus, Zimmer 12",
    }
    args.update(kwargs)
    return services.appointment_plan(case=w.case, actor=w.owner, now=now, **args)


def test_plan_writes_the_row_and_one_audit_event(w: World) -> None:  # noqa: F811
    row = plan(w)
    assert (row.status, row.manager, row.duration_minutes) == ("PLANNED", w.owner, 45)
    assert (
        AuditEvent.objects.filter(
            case_id=w.case.pk, event_type="appointments.appointment.planned"
        ).count()
        == 1
    )


def test_an_appointment_in_the_past_or_by_an_outsider_is_refused(w: World) -> None:  # noqa: F811
    with pytest.raises(InvalidArguments) as refused:
        plan(w, hours=-1)
    assert refused.value.code == "appointment_in_past"
    with pytest.raises(CaseNotFound) as outsider:
        services.appointment_plan(
            case=w.case,
            actor=w.manager_other,
            now=timezone.now(),
            starts_at=timezone.now() + timedelta(days=1),
            duration_minutes=30,
            form="office",
            topic="work",
        )
    assert outsider.value.http_status == 404
    assert Appointment.objects.count() == 0


def test_no_show_records_a_no_show_consultation_counted_as_k2x(w: World) -> None:  # noqa: F811
    row = plan(w, hours=1)
    with pytest.raises(GuardFailed):
        services.appointment_no_show(appointment=row.pk, actor=w.owner, now=timezone.now())
    later = timezone.now() + timedelta(hours=2)
    row = services.appointment_no_show(appointment=row.pk, actor=w.owner, now=later)
    assert row.status == Appointment.Status.NO_SHOW
    consultation = Consultation.objects.get(pk=row.consultation_id)
    assert consultation.status == Consultation.Status.NO_SHOW
    assert consultation.held_on == timezone.localdate(row.starts_at)
    # K2x counts it, K2 does not.
    from reports.models import UnitKind
    from reports.selectors import Period, Unit, kennzahlen_compute

    day = consultation.held_on
    figures = kennzahlen_compute(unit=Unit(UnitKind.LAND, 0, ""), period=Period(day, day))
    assert figures["k2x_no_show"] == 1
    assert (
        figures["k2_consultations"]
        == Consultation.objects.filter(held_on=day, status=Consultation.Status.COMPLETED).count()
    )
    with pytest.raises(GuardFailed):
        services.appointment_no_show(appointment=row.pk, actor=w.owner, now=later)


def test_the_sweep_reminds_before_and_closes_after(w: World, settings) -> None:  # noqa: F811
    settings.LOTSE_APPOINTMENT_REMINDER_HOURS = 24
    settings.LOTSE_APPOINTMENT_NO_SHOW_HOURS = 48
    soon = plan(w, hours=10)
    far = plan(w, hours=80)
    counts = services.appointments_sweep(now=timezone.now())
    assert counts["reminded"] == 1
    note = Notification.objects.get(kind=NotificationKind.APPOINTMENT_REMINDER)
    assert (note.recipient, note.case_id) == (w.owner, w.case.pk)
    assert services.appointments_sweep(now=timezone.now())["reminded"] == 0
    counts = services.appointments_sweep(now=timezone.now() + timedelta(hours=60))
    assert counts["no_show"] == 1
    soon.refresh_from_db()
    far.refresh_from_db()
    assert soon.status == Appointment.Status.NO_SHOW
    assert far.status == Appointment.Status.PLANNED
    assert (
        AuditEvent.objects.filter(
            case_id=w.case.pk, event_type="appointments.appointment.no_show", actor__isnull=True
        ).count()
        == 1
    )


def test_week_page_and_the_case_page_show_the_appointment(w: World) -> None:  # noqa: F811
    row = plan(w, hours=30)
    client = client_of(w.owner)
    day = timezone.localdate(row.starts_at).isoformat()
    page = client.get(reverse("appointments:week") + f"?woche={day}").content.decode()
    assert SECRET in page
    case_page = client.get(reverse("cases:detail", args=[w.case.pk])).content.decode()
    assert "Termine" in case_page
    assert (
        client_of(w.manager_other).get(reverse("appointments:case", args=[w.case.pk])).status_code
        == 404
    )


def test_browser_form_plans_and_marks_no_show(w: World) -> None:  # noqa: F811
    client = client_of(w.owner)
    target = reverse("appointments:case", args=[w.case.pk])
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    body = {
        "day": day,
        "time": "10:30",
        "duration_minutes": "45",
        "form": "office",
        "topic": "work",
    }
    assert client.post(target, body).status_code == 302
    row = Appointment.objects.get(case=w.case)
    # The day has come (the row moved back instead of the clock: the session stays fresh).
    Appointment.objects.filter(pk=row.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    response = client.post(reverse("appointments:no_show", args=[w.case.pk, row.pk]))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == Appointment.Status.NO_SHOW
    past = {**body, "day": (timezone.localdate() - timedelta(days=1)).isoformat()}
    assert client.post(target, past).status_code == 400


def test_ical_feed_has_no_client_names_and_can_be_rotated_and_revoked(w: World) -> None:  # noqa: F811
    plan(w, hours=30)
    client = client_of(w.owner)
    client.post(reverse("appointments:feed_rotate"))
    token = w.owner.calendar_feed.token
    body = client.get(reverse("appointments:feed", args=[token]))
    assert body.status_code == 200
    text = body.content.decode()
    assert "BEGIN:VEVENT" in text
    assert f"Fall {w.case.pk}" in text
    assert SECRET not in text
    assert "Rathaus" not in text
    client.post(reverse("appointments:feed_rotate"))
    assert client.get(reverse("appointments:feed", args=[token])).status_code == 404
    w.owner.calendar_feed.refresh_from_db()
    new = w.owner.calendar_feed.token
    client.post(reverse("appointments:feed_revoke"))
    assert client.get(reverse("appointments:feed", args=[new])).status_code == 404


@pytest.mark.parametrize("code", ["de", "ar", "ti"])
def test_the_appointment_letter_in_the_clients_language(w: World, code: str) -> None:  # noqa: F811
    row = plan(w, hours=30)
    response = client_of(w.owner).get(
        reverse("appointments:letter", args=[w.case.pk, row.pk]) + f"?sprache={code}"
    )
    assert response.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Einladung zu einem Beratungstermin" in text
    assert timezone.localtime(row.starts_at).strftime("%H:%M") in text
    if code != "de":
        assert "nicht geprüft" in text


def test_api_plans_lists_and_records_a_no_show(w: World) -> None:  # noqa: F811
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(w.owner)
    target = f"/api/v1/cases/{w.case.pk}/appointments/"
    start = (timezone.now() + timedelta(days=2)).isoformat()
    body = {"starts_at": start, "duration_minutes": 30, "form": "office", "topic": "work"}
    response = api.post(target, body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["status"], created["form"], created["topic"]) == ("planned", "office", "work")
    early = api.post(f"{target}{created['id']}/no-show/")
    assert (early.status_code, early.json()["code"]) == (409, "appointment_not_begun")
    Appointment.objects.filter(pk=created["id"]).update(
        starts_at=timezone.now() - timedelta(hours=1)
    )
    done = api.post(f"{target}{created['id']}/no-show/")
    assert done.status_code == 200
    assert done.json()["status"] == "no_show"
    consultation = Consultation.objects.get(pk=done.json()["consultation"])
    assert consultation.status == Consultation.Status.NO_SHOW
    again = api.post(f"{target}{created['id']}/no-show/")
    assert (again.status_code, again.json()["code"]) == (409, "appointment_closed")
    mine = api.get("/api/v1/appointments/").json()
    assert [row["id"] for row in mine] == [created["id"]]
    other = APIClient()
    other.force_authenticate(w.manager_other)
    assert other.get(target).status_code == 404
    assert other.post(f"{target}{created['id']}/cancel/").status_code == 404


def test_chronology_entries_of_appointments_and_documents(w: World, settings, tmp_path) -> None:  # noqa: F811
    from appointments.chronology import appointment_entries
    from cases import services as case_services
    from cases.document_chronology import document_entries

    settings.MEDIA_ROOT = tmp_path
    row = plan(w, hours=30)
    document = case_services.document_upload(
        case=w.case, actor=w.owner, now=timezone.now(), content=b"%PDF-1.4 x", kind="LETTER"
    )
    assert appointment_entries(case=w.case) == [
        (timezone.localdate(row.starts_at), row.starts_at, row)
    ]
    assert document_entries(case=w.case) == [
        (timezone.localdate(document.uploaded_at), document.uploaded_at, document)
    ]


def test_an_ending_case_cancels_its_planned_appointments_and_erasure_empties_them(
    w: World,  # noqa: F811
) -> None:
    from cases.effects import CaseChange, ChangeKind

    planned = plan(w, hours=30)
    now = timezone.now()
    services.appointments_for_case_change(
        CaseChange(
            case=w.case, kind=ChangeKind.TRANSITION, actor=w.owner, now=now, transition="pause"
        )
    )
    planned.refresh_from_db()
    assert planned.status == Appointment.Status.PLANNED
    services.appointments_for_case_change(
        CaseChange(case=w.case, kind=ChangeKind.TRANSITION, actor=None, now=now, transition="close")
    )
    planned.refresh_from_db()
    assert (planned.status, planned.closed_at) == (Appointment.Status.CANCELLED, now)
    services.appointments_for_case_change(
        CaseChange(
            case=w.case,
            kind=ChangeKind.TRANSITION,
            actor=None,
            now=now,
            transition="retention_elapsed",
        )
    )
    planned.refresh_from_db()
    assert (planned.place, planned.interpreter) == ("", "")
