"""Canary test (issue 9): personal content never leaks, and is gone after retention.

Distinctive strings are written into health, residence and debt fields of a
case through the API and the services. While the case is worked on they
must appear in no log record, audit event, e-mail or Celery payload. After
the retention sweep they must appear nowhere in the database (every column
of every table, session contents decoded) nor in file storage.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.app.task import Task
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from cases import demo, services
from cases.models import CaseStatus, Document, Person
from dataprotection.services import retention_sweep
from tests.accounts.factories import TeamFactory
from tests.cases.factories import manager_in, new_case

pytestmark = pytest.mark.django_db

HEALTH = "KanarieGesundheitQ7x41"
RESIDENCE = "KanarieWohnortZ9k22"
DEBT = "KanarieSchuldenV3m87"
# The consent fields of DOMAIN.md §14.2 that hold personal data: the
# guardian's name, the interpreter's language, the evidence scan.
GUARDIAN = "KanarieVormundG4t19"
CONSENT_LANGUAGE = "KanarieSpracheL8p03"
CANARIES = (HEALTH, RESIDENCE, DEBT, GUARDIAN, CONSENT_LANGUAGE)


def _hits(text: str) -> list[str]:
    return [c for c in CANARIES if c in text]


def _database_hits() -> dict[str, list[str]]:
    """Every row of every table, as text; sessions decoded."""
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            text = " ".join(
                str(bytes(v)) if isinstance(v, memoryview) else str(v)
                for row in cursor.fetchall()
                for v in row
            )
            if hits := _hits(text):
                found[table] = hits
    sessions = " ".join(str(s.get_decoded()) for s in Session.objects.all())
    if hits := _hits(sessions):
        found["django_session (decoded)"] = hits
    return found


def _storage_hits(root: Path) -> list[str]:
    return [
        str(path)
        for path in root.rglob("*")
        if path.is_file() and any(c.encode() in path.read_bytes() for c in CANARIES)
    ]


@pytest.fixture
def celery_payloads(monkeypatch) -> list[str]:
    sent: list[str] = []
    original = Task.apply_async

    def recording(self: Task, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        sent.append(repr((self.name, args, kwargs, options)))
        return original(self, args, kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", recording)
    return sent


def _other_apps_keep_canaries(*, case: Any, owner: Any, now: Any, started: Any) -> None:
    """Case data other apps keep (cases.case_data): an appointment, the
    handover the case came from, a received transfer package, and the
    evidence of a clock fact."""
    import uuid

    from appointments.services import appointment_plan
    from handover.models import Handover, HandoverMember
    from tests.accounts.factories import GemeindeFactory
    from transfers.models import TransferPackage

    appointment_plan(
        case=case,
        actor=owner,
        now=now,
        starts_at=now + timedelta(days=3),
        duration_minutes=60,
        form="office",
        topic="health",
        place=f"Hausbesuch {RESIDENCE}",
        interpreter=CONSENT_LANGUAGE,
    )
    handover = Handover.objects.create(
        source=Handover.Source.FORM,
        gemeinde=GemeindeFactory(),
        au_allocation_date=started.date(),
        gu_contact_name="Sozialdienst GU",
        submitted_by=owner,
        created_at=started,
        case=case,
        consent_given=True,
        consent_form="SIGNED_PAPER",
        consent_given_on=started.date(),
        notes=f"Bekannt: {HEALTH}",
        known_needs=DEBT,
        address=RESIDENCE,
    )
    HandoverMember.objects.create(
        handover=handover,
        position=0,
        relation="HEAD",
        family_name="Muster",
        person=case.person,
        authority_reference=f"AZ {DEBT}",
    )
    TransferPackage.objects.create(
        direction=TransferPackage.Direction.IMPORTED,
        package_id=uuid.uuid4(),
        case=case,
        source_installation="Lotse Nachbarkreis",
        target_installation="Lotse Test",
        key_id="k1",
        sha256="0" * 64,
        exported_at=started,
        recorded_at=started,
        recorded_by=owner,
        payload={"consultations": [{"notes": HEALTH}]},
    )
    services.person_clock_fact_record(
        person=case.person,
        actor=owner,
        now=now,
        source="OTHER_TRAEGER",
        evidence=f"Bescheinigung {GUARDIAN}",
        first_consultation_on=case.consultation_start,
    )


def test_canaries_never_leak_and_are_gone_after_the_retention_sweep(
    settings, tmp_path, caplog, celery_payloads, django_capture_on_commit_callbacks
) -> None:
    settings.MEDIA_ROOT = tmp_path
    caplog.set_level(logging.DEBUG)
    now = timezone.now()
    started = now - timedelta(days=2)
    owner = manager_in(TeamFactory())
    web = Client()
    web.force_login(owner)

    with django_capture_on_commit_callbacks(execute=True):
        case = new_case(owner=owner, now=started)
        Person.objects.filter(pk=case.person_id).update(address=f"Lager 3, {RESIDENCE}")
        case = demo.to_initial_counselling(case, started)
        url = f"/api/v1/cases/{case.pk}"
        assessment = web.put(
            f"{url}/assessment/",
            {
                "assessed_on": started.date().isoformat(),
                "items": [
                    {"field_of_action": "health", "need_level": "high", "situation": HEALTH},
                    {
                        "field_of_action": "residence_status",
                        "need_level": "medium",
                        "situation": RESIDENCE,
                    },
                    {
                        "field_of_action": "financial_independence",
                        "need_level": "high",
                        "situation": DEBT,
                        "client_wishes": f"{DEBT} abbauen",
                    },
                ],
            },
            content_type="application/json",
        )
        assert assessment.status_code == 200, assessment.json()
        consultation = web.post(
            f"{url}/consultations/",
            {
                "date": now.date().isoformat(),
                "duration_minutes": 45,
                "form": "office",
                "topics": ["debt", "health"],
                "notes": f"Gespräch über {DEBT} und {HEALTH}",
                "interpreter": RESIDENCE,
            },
            content_type="application/json",
        )
        assert consultation.status_code == 201, consultation.json()
        consent = web.post(
            f"{url}/consents/",
            {
                "scope": "special_categories_art9",
                "form": "signed_paper",
                "language": "ar",
                "given_by": "legal_guardian",
                "guardian_name": GUARDIAN,
                "interpreter_language": CONSENT_LANGUAGE,
            },
            content_type="application/json",
        )
        assert consent.status_code == 201, consent.json()
        evidence = web.post(
            f"{url}/consents/{consent.json()['id']}/evidence/",
            {"file": ContentFile(f"%PDF-1.4 Vormund {GUARDIAN}".encode(), name="scan.pdf")},
        )
        assert evidence.status_code == 201, evidence.json()
        withdrawn = web.post(
            f"{url}/consents/{consent.json()['id']}/withdraw/",
            {"channel": "representative"},
            content_type="application/json",
        )
        assert withdrawn.status_code == 200, withdrawn.json()
        case = services.case_transition(case=case, name="draft_plan", actor=owner, now=started)
        goal = services.goal_add(
            case=case,
            actor=owner,
            now=started,
            field_of_action="health",
            title=f"Behandlung {HEALTH}",
            success_criterion=HEALTH,
            target_date=(now + timedelta(days=200)).date(),
        )
        services.measure_add(
            goal=goal, actor=owner, now=started, description=DEBT, responsible="CLIENT"
        )
        case = services.case_transition(
            case=case, name="agree_plan", actor=owner, now=started, **demo.AGREEMENT
        )
        document = Document(
            case=case, kind="OTHER", uploaded_by=owner, uploaded_at=started, sha256="0" * 64
        )
        document.file.save("befund.txt", ContentFile(f"Befund {HEALTH}".encode()), save=True)
        _other_apps_keep_canaries(case=case, owner=owner, now=now, started=started)
        for page in (f"{url}/", f"{url}/assessment/", f"{url}/consultations/", f"{url}/plan/"):
            assert web.get(page).status_code == 200, page
        assert web.get(f"/aufgaben/fall/{case.pk}/").status_code == 200
        case = demo.to_closing(case, started)
        case = demo.to_closed(case, started)
    assert case.status == CaseStatus.CLOSED

    log_text = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {getattr(r, 'exc_text', '')}" for r in caplog.records
    )
    events = " ".join(str(row) for row in AuditEvent.objects.values_list())
    mails = " ".join(f"{m.subject} {m.body} {m.alternatives}" for m in mail.outbox)
    assert len(caplog.records) > 0
    assert AuditEvent.objects.filter(case_id=case.pk).count() > 5
    assert _hits(log_text) == []
    assert _hits(events) == []
    assert _hits(mails) == []
    assert _hits(" ".join(celery_payloads)) == []
    # The canaries are really stored before the sweep (the scan can find them).
    assert set(_database_hits()) >= {
        "cases_assessmentitem",
        "cases_consultation",
        "cases_goal",
        "cases_consent",
        "appointments_appointment",
        "handover_handover",
        "handover_handovermember",
        "transfers_transferpackage",
        "cases_personclockfact",
    }
    assert set(_hits(" ".join(map(str, _database_hits().values())))) == set(CANARIES)
    assert _storage_hits(tmp_path) != []

    later = now.replace(year=now.year + settings.LOTSE_RETENTION_YEARS + 1, month=1, day=2)
    with django_capture_on_commit_callbacks(execute=True):
        result = retention_sweep(now=later)

    assert result.anonymised == [case.pk]
    case.refresh_from_db()
    assert case.status == CaseStatus.DELETED
    assert _database_hits() == {}
    assert _storage_hits(tmp_path) == []
    erasure = AuditEvent.objects.get(case_id=case.pk, transition="retention_elapsed")
    assert (erasure.actor_id, erasure.from_state, erasure.to_state) == (None, "CLOSED", "DELETED")
    # The erasure event names what was erased: codes and ids by value, client
    # text only as a keyed digest of its new (erased) value, never the text.
    erased = {change["model"] for change in erasure.data["changes"]}
    assert {
        "cases.case",
        "cases.consultation",
        "cases.goal",
        "cases.person",
        "cases.consent",
        "cases.document",
    } <= erased
    assert _hits(str(erasure.data)) == []
    for change in erasure.data["changes"]:
        for recorded in change["fields"].values():
            assert set(recorded) in ({"changed", "digest"}, {"old", "new"}), recorded
