"""Caseload migration import: a synthetic caseload with malformed rows,
all or nothing, idempotent re-import, the states and flows of the cases,
encodings, German and Excel dates."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from accounts.models import Gemeinde, User
from audit.models import AuditEvent
from audit.selectors import case_replay
from caseload import services
from caseload.demo import caseload_csv, synthetic_rows
from caseload.models import CaseloadImport, ImportedPerson
from caseload.reading import parse_date
from cases.history import case_data_current
from cases.models import (
    Case,
    CaseStatus,
    Goal,
    Household,
    IntegrationPlan,
    Person,
    PersonClockFact,
)
from cases.person_clock import person_clock
from tests.accounts.factories import GemeindeFactory, TeamFactory
from tests.cases.factories import T0, ensure_catalogues, manager_in, supervisor_of
from workflows.invariants import cases_with_problems, open_work

pytestmark = pytest.mark.django_db
TODAY = T0.date()


@dataclass
class Team:
    supervisor: User
    managers: list[User]
    gemeinde: Gemeinde
    outsider: User


@pytest.fixture
def team() -> Team:
    ensure_catalogues()
    team = TeamFactory()
    gemeinde = GemeindeFactory()
    team.traeger.gemeinden.add(gemeinde)
    return Team(
        supervisor=supervisor_of(team),
        managers=[manager_in(team), manager_in(team)],
        gemeinde=gemeinde,
        outsider=manager_in(TeamFactory()),
    )


def rows_for(team: Team, persons: int, prefix: str = "SYN", first: int = 0) -> list[dict[str, str]]:
    return synthetic_rows(
        persons,
        managers=[m.username for m in team.managers],
        ags=team.gemeinde.ags,
        today=TODAY,
        prefix=prefix,
        first=first,
    )


def run(team: Team, content: bytes, *, dry_run: bool = False, name: str = "bestand.csv") -> Any:
    return services.caseload_import(
        actor=team.supervisor, now=T0, content=content, filename=name, dry_run=dry_run
    )


def counts() -> tuple[int, ...]:
    return (
        Person.objects.count(),
        Case.objects.count(),
        Household.objects.count(),
        IntegrationPlan.objects.count(),
        Goal.objects.count(),
        AuditEvent.objects.count(),
        ImportedPerson.objects.count(),
    )


def test_synthetic_caseload_lands_in_its_states_with_flows_and_clocks(team: Team) -> None:
    rows = rows_for(team, 40)
    report = run(team, caseload_csv(rows))
    assert report.errors == []
    with_case = [r for r in rows if r.get("own_case") != "nein"]
    assert len(report.cases) == len(with_case) == Case.objects.count()
    assert Person.objects.count() == len(rows)
    states = report.as_dict()["states"]
    assert set(states) == {"REGISTERED", "INITIAL_COUNSELLING", "PLANNING", "ACTIVE"}
    # Every case's open work fits its state (what verify_workflows checks).
    assert cases_with_problems(Case.objects.all()) == {}
    call_command("verify_workflows")
    by_reference = {m.external_reference: m for m in ImportedPerson.objects.select_related("case")}
    for row in with_case:
        case = by_reference[row["external_reference"]].case
        assert case is not None
        start = parse_date(row["first_consultation_on"])
        # The person's clock starts at the imported first consultation.
        assert case.consultation_start == start
        assert case.person.prior_consultation_start == start
        clock = person_clock(person=case.person, today=TODAY)
        assert clock.start == start
        facts = PersonClockFact.objects.filter(person=case.person)
        if start is not None:
            fact = facts.get()
            assert fact.source == PersonClockFact.Source.MIGRATION
            assert fact.first_consultation_on == start
            assert row["external_reference"] in fact.evidence
            assert clock.effective_end == case.effective_end
            # The fact's event follows the import's in the case's chain.
            recorded = AuditEvent.objects.get(
                case_id=case.pk, event_type="cases.person.clock_fact_recorded"
            )
            assert recorded.object_id == str(fact.pk)
            assert recorded.data["clock_start"] == start.isoformat()
            assert recorded.data["effective_end"] == case.effective_end.isoformat()
            assert recorded.data["extension_months"] == fact.extension_months
            imported = AuditEvent.objects.get(case_id=case.pk, event_type="cases.case.imported")
            assert imported.seq < recorded.seq
        else:
            assert not facts.exists()
        if start is None:
            assert case.status == CaseStatus.REGISTERED
            assert open_work(case) == ["first_consultation"]
            continue
        months = int(row.get("extension_months") or 0)
        assert clock.extension_months == (months or None)
        assert case.regular_end == date(start.year + 3, start.month, start.day) - timedelta(1)
        assert (case.effective_end - case.regular_end).days > 0 if months else True
        if case.status == CaseStatus.ACTIVE:
            assert case.next_review_at == parse_date(row["next_review_on"])
            plan = IntegrationPlan.objects.get(case=case)
            assert plan.status == IntegrationPlan.Status.AGREED
            assert plan.goals.count() == 2
            assert "review_timer" in open_work(case)
        elif case.status == CaseStatus.PLANNING:
            assert "integration_plan" in open_work(case)
        else:
            assert case.status == CaseStatus.INITIAL_COUNSELLING
            assert "needs_assessment" in open_work(case)
        # One event per case names the source; the chain reproduces the case.
        event = AuditEvent.objects.get(case_id=case.pk, event_type="cases.case.imported")
        assert "bestand.csv" in event.reason or "bestand.csv" in event.data["source"]
        replay = case_replay(case_id=case.pk)
        assert replay.conflicts == []
        assert replay.outside == {}
        assert replay.rows == case_data_current(case_id=case.pk)
    households = Household.objects.all()
    assert households.count() == sum(1 for r in rows if r.get("own_case") == "nein")
    assert all(h.memberships.count() == 2 for h in households)


def test_malformed_rows_are_reported_row_by_row_and_nothing_is_written(team: Team) -> None:
    rows = rows_for(team, 30)
    rows[2]["first_consultation_on"] = "31.02.2024"  # line 4
    rows[4]["manager"] = team.outsider.username  # line 6
    rows[6]["date_of_birth"] = "gestern"  # line 8
    rows[7]["external_reference"] = rows[3]["external_reference"]  # line 9
    rows[8]["goal_1_field"] = "Raumfahrt"  # line 10
    rows[9]["case_status"] = "abgeschlossen"  # line 11
    rows[11]["family_name"] = "=HYPERLINK(1)"  # line 13
    rows[12]["extension_months"] = "13"  # line 14
    rows[13]["gemeinde_ags"] = "01234567"  # line 15
    rows[1]["next_review_on"] = "01.01.2026"  # line 3: a child without a case
    before = counts()
    with pytest.raises(services.ImportInvalid) as raised:
        run(team, caseload_csv(rows))
    errors = {(e["line"], e["field"]) for e in raised.value.report.errors}
    assert {
        (4, "first_consultation_on"),
        (6, "manager"),
        (8, "date_of_birth"),
        (9, "external_reference"),
        (10, "goal_1_field"),
        (11, "case_status"),
        (13, "family_name"),
        (14, "extension_months"),
        (15, "gemeinde_ags"),
        (3, "next_review_on"),
    } <= errors
    messages = {e["line"]: e["message"] for e in raised.value.report.errors}
    assert messages[4] == "Dieses Datum gibt es nicht."
    assert "Teams" in messages[6]
    assert counts() == before


def test_dry_run_reports_the_same_and_writes_nothing(team: Team) -> None:
    content = caseload_csv(rows_for(team, 12))
    before = counts()
    dry = run(team, content, dry_run=True)
    assert counts() == before
    real = run(team, content)
    assert [c["external_reference"] for c in dry.cases] == [
        c["external_reference"] for c in real.cases
    ]
    assert all("case_id" in c for c in real.cases)


def test_reimport_is_idempotent(team: Team) -> None:
    content = caseload_csv(rows_for(team, 10))
    first = run(team, content)
    before = counts()
    again = run(team, content)
    assert counts() == before
    assert again.cases == []
    assert len(again.skipped) == 10
    more = caseload_csv(rows_for(team, 10) + rows_for(team, 3, prefix="NEU", first=1000))
    third = run(team, more)
    assert len(third.skipped) == 10
    assert third.persons == 3
    assert [c["external_reference"] for c in third.cases] == ["NEU-001000", "NEU-001001"]
    assert len(first.cases) + 2 == Case.objects.count()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_umlauts_and_excel_dates(team: Team, encoding: str) -> None:
    row = rows_for(team, 1)[0]
    row.update(
        family_name="Müßig-Öztürk",
        first_consultation_on=str((TODAY - date(1899, 12, 30)).days - 100),  # Excel serial
        date_of_birth="01.02.85",
    )
    run(team, caseload_csv([row], encoding=encoding))
    person = Person.objects.get()
    assert person.family_name == "Müßig-Öztürk"
    assert person.date_of_birth == date(1985, 2, 1)
    assert Case.objects.get().consultation_start == TODAY - timedelta(days=100)


def test_xlsx_with_date_cells(team: Team) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(services.COLUMNS)
    row = rows_for(team, 1)[0]
    values = {**row, "first_consultation_on": TODAY - timedelta(days=10)}
    sheet.append([values.get(name, "") or None for name in services.COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    report = run(team, out.getvalue(), name="bestand.xlsx")
    assert len(report.cases) == 1
    assert Case.objects.get().consultation_start == TODAY - timedelta(days=10)


def test_only_a_supervisor_imports(team: Team) -> None:
    with pytest.raises(services.Forbidden):
        services.caseload_import(
            actor=team.managers[0],
            now=T0,
            content=caseload_csv(rows_for(team, 2)),
            filename="x.csv",
            dry_run=True,
        )


def test_the_worker_runs_a_stored_upload(team: Team, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        stored = services.caseload_import_submit(
            actor=team.supervisor,
            now=T0,
            content=caseload_csv(rows_for(team, 6)),
            filename="bestand.csv",
            dry_run=False,
        )
    stored.refresh_from_db()
    assert stored.status == CaseloadImport.Status.DONE
    assert stored.rows_done == stored.rows_total == 6
    assert bytes(stored.content) == b""
    assert len(stored.report["cases"]) == Case.objects.count() > 0


def test_templates_import_after_filling_in_the_manager(team: Team) -> None:
    text = services.import_template_csv().decode("utf-8-sig")
    text = text.replace("im.beispiel", team.managers[0].username)
    text = text.replace("08999001", team.gemeinde.ags)
    report = run(team, text.encode("utf-8"), dry_run=True)
    assert [c["status"] for c in report.cases] == ["ACTIVE"]
    assert report.households == 1


def test_browser_page_upload_and_report(
    team: Team, client, django_capture_on_commit_callbacks
) -> None:
    client.force_login(team.supervisor)
    page = client.get("/fallbestand/")
    assert page.status_code == 200
    assert "Vorlage" in page.content.decode() or "vorlage.csv" in page.content.decode()
    assert client.get("/fallbestand/vorlage.xlsx").status_code == 200
    rows = rows_for(team, 4)
    rows[2]["first_consultation_on"] = "32.13.2024"
    upload = io.BytesIO(caseload_csv(rows))
    upload.name = "bestand.csv"
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/fallbestand/", {"file": upload, "dry_run": ""})
    assert answer.status_code == 302
    report = client.get(answer["Location"])
    text = report.content.decode()
    assert "nichts wurde gespeichert" in text
    assert "Dieses Datum gibt es nicht." in text
    assert Case.objects.count() == 0
    client.force_login(team.managers[0])
    assert client.get(answer["Location"]).status_code == 404
    assert client.get("/fallbestand/").status_code == 404


def test_api_import_and_run(team: Team, django_capture_on_commit_callbacks) -> None:
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(team.supervisor)
    upload = io.BytesIO(caseload_csv(rows_for(team, 3)))
    upload.name = "bestand.csv"
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post("/api/v1/caseload-imports/", {"file": upload}, format="multipart")
    # The worker runs after the request's commit: 202, then the run is done.
    assert answer.status_code == 202, answer.json()
    body = answer.json()
    again = api.get(f"/api/v1/caseload-imports/{body['id']}/")
    assert again.status_code == 200
    assert again.json()["status"] == "done"
    assert len(again.json()["report"]["cases"]) == 2
    bad = io.BytesIO(
        caseload_csv([{**rows_for(team, 1, prefix="X", first=2000)[0], "manager": "niemand"}])
    )
    bad.name = "bad.csv"
    with django_capture_on_commit_callbacks(execute=True):
        refused = api.post("/api/v1/caseload-imports/", {"file": bad}, format="multipart")
    failed = api.get(f"/api/v1/caseload-imports/{refused.json()['id']}/").json()
    assert failed["status"] == "failed"
    assert failed["report"]["errors"][0]["line"] == 2
    assert failed["report"]["errors"][0]["field"] == "manager"
    assert Case.objects.count() == 2
    api.force_authenticate(team.managers[0])
    assert api.get(f"/api/v1/caseload-imports/{body['id']}/").status_code == 404


def test_command_imports_a_file(team: Team, tmp_path) -> None:
    path = tmp_path / "bestand.csv"
    path.write_bytes(caseload_csv(rows_for(team, 3)))
    out = io.StringIO()
    call_command("import_caseload", str(path), user=team.supervisor.username, stdout=out)
    assert "imported 2 cases" in out.getvalue()
    assert Case.objects.count() == 2


def test_5000_person_caseload_with_malformed_rows_is_refused_row_by_row(team: Team) -> None:
    """The full synthetic caseload, checked (the dry run parses and checks
    every row; the real 5,000-person run is `make bench`, part caseload)."""
    rows = rows_for(team, 5000)
    bad_lines = set()
    for index in range(7, 5000, 250):
        if rows[index].get("own_case") == "nein":
            index += 1
        rows[index]["first_consultation_on"] = "29.02.2023"
        bad_lines.add(index + 2)
    before = counts()
    with pytest.raises(services.ImportInvalid) as raised:
        run(team, caseload_csv(rows, encoding="cp1252"), dry_run=True)
    report = raised.value.report
    assert report.rows == 5000
    assert {e["line"] for e in report.errors} == bad_lines
    assert {e["field"] for e in report.errors} == {"first_consultation_on"}
    assert {e["message"] for e in report.errors} == {"Dieses Datum gibt es nicht."}
    with pytest.raises(services.ImportInvalid):
        run(team, caseload_csv(rows))
    assert counts() == before


def test_the_timeline_names_the_import(team: Team) -> None:
    from audit.lines import event_line

    run(team, caseload_csv(rows_for(team, 2)), name="altbestand.xlsx.csv")
    event = AuditEvent.objects.filter(event_type="cases.case.imported").first()
    line = event_line(event)
    assert line.startswith("Fall aus einer Übernahme des Fallbestands übernommen")
    assert "altbestand.xlsx.csv" in line


def test_a_known_person_under_another_reference_is_refused(team: Team) -> None:
    rows = rows_for(team, 3)
    run(team, caseload_csv(rows))
    again = [{**rows[2], "external_reference": "NEUE-KENNUNG"}]
    before = counts()
    with pytest.raises(services.ImportInvalid) as raised:
        run(team, caseload_csv(again))
    [error] = raised.value.report.errors
    assert (error["line"], error["field"]) == (2, "family_name")
    assert error["message"].startswith("Diese Person ist schon in Lotse")
    assert counts() == before


def test_rows_without_reference_or_name_are_each_reported(team: Team) -> None:
    rows = rows_for(team, 4)
    rows[0]["external_reference"] = ""
    rows[2]["external_reference"] = ""
    rows[3]["family_name"] = ""
    with pytest.raises(services.ImportInvalid) as raised:
        run(team, caseload_csv(rows), dry_run=True)
    assert {(e["line"], e["field"]) for e in raised.value.report.errors} >= {
        (2, "external_reference"),
        (4, "external_reference"),
        (5, "family_name"),
    }


def test_beat_runs_waiting_uploads_and_fails_a_lost_one(team: Team, monkeypatch) -> None:
    from celery import current_app

    from caseload.tasks import caseload_imports_run_task

    # Without eager tasks the request only stores the upload.
    monkeypatch.setattr(current_app.conf, "task_always_eager", False)
    waiting = services.caseload_import_submit(
        actor=team.supervisor,
        now=T0,
        content=caseload_csv(rows_for(team, 3)),
        filename="bestand.csv",
        dry_run=False,
    )
    lost = CaseloadImport.objects.create(
        traeger=team.supervisor.traeger,
        team=team.supervisor.team,
        created_by=team.supervisor,
        created_at=T0 - timedelta(hours=3),
        started_at=T0 - timedelta(hours=3),
        filename="alt.csv",
        dry_run=False,
        status=CaseloadImport.Status.RUNNING,
    )
    waiting.refresh_from_db()
    assert waiting.status == CaseloadImport.Status.QUEUED
    assert caseload_imports_run_task.run() == 1
    waiting.refresh_from_db()
    lost.refresh_from_db()
    assert waiting.status == CaseloadImport.Status.DONE
    assert Case.objects.count() == 2
    assert lost.status == CaseloadImport.Status.FAILED
    assert lost.report["errors"][0]["message"].startswith("Die Übernahme brach unerwartet ab")


def test_bulk_clock_facts_refuse_a_person_with_a_period_elsewhere(team: Team) -> None:
    """The bulk path of the migration writes only for persons created with
    their one case; a person with another case goes through
    `person_clock_fact_record`, which compares and follows."""
    from django.db import transaction

    from cases.errors import InvalidArguments
    from cases.services.person_clock import NewPersonFact, person_clock_facts_of_new_persons

    run(team, caseload_csv(rows_for(team, 4)))
    case = Case.objects.filter(consultation_start__isnull=False).first()
    assert case is not None
    facts_before = PersonClockFact.objects.count()
    with pytest.raises(InvalidArguments), transaction.atomic():
        person_clock_facts_of_new_persons(
            facts=[NewPersonFact(case=case, first_consultation_on=case.consultation_start)],
            actor=team.supervisor,
            now=T0,
            source=PersonClockFact.Source.MIGRATION,
        )
    assert PersonClockFact.objects.count() == facts_before
