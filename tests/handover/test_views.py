"""The German handover screens: the GU's form, the managers' list, accept,
return, the import page, the templates and the handover on the case page."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.test import Client

from cases.models import Case
from handover.models import Handover, HandoverStatus
from tests.cases.factories import T0, PersonFactory
from tests.handover.factories import submitted, world

pytestmark = pytest.mark.django_db


def web_for(user: Any) -> Client:
    web = Client()
    web.force_login(user)
    return web


def form_data(ags: str, **overrides: Any) -> dict[str, Any]:
    data = {
        "gemeinde_ags": ags,
        "au_allocation_date": "2025-12-01",
        "consent_given": "on",
        "consent_form": "SIGNED_PAPER",
        "consent_language": "ar",
        "consent_given_on": "2025-11-20",
        "known_needs": "Sprachkurs",
        "notes": "kommt gut zurecht",
        "gu_contact_name": "Gül Test",
        "members-TOTAL_FORMS": "5",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "20",
        "members-0-family_name": "Haddad",
        "members-0-given_names": "Amal",
        "members-0-date_of_birth": "1990-03-01",
        "members-1-family_name": "Haddad",
        "members-1-given_names": "Sami",
        "members-1-relation": "CHILD",
        "submit": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_tells_the_sender_what_happens_without_consent() -> None:
    w = world()

    page = web_for(w.gu).get("/uebergaben/neu/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Ohne Einwilligung der Person in die Übermittlung ihrer Daten" in text
    assert w.gemeinde.ags in text


def test_submitting_the_form_without_consent_stores_the_allocation_facts_only() -> None:
    w = world()

    with time_machine.travel(T0, tick=False):
        response = web_for(w.gu).post(
            "/uebergaben/neu/", form_data(w.gemeinde.ags, consent_given=None)
        )

    handover = Handover.objects.get()
    assert response.status_code == 302
    assert (handover.status, handover.source, handover.known_needs, handover.notes) == (
        HandoverStatus.SUBMITTED,
        Handover.Source.FORM,
        "",
        "",
    )
    assert list(
        handover.members.order_by("position").values_list(
            "given_names", "relation", "date_of_birth"
        )
    ) == [("Amal", "HEAD", None), ("Sami", "CHILD", None)]


def test_form_errors_are_shown_at_the_fields_and_nothing_is_saved() -> None:
    w = world()

    with time_machine.travel(T0, tick=False):
        response = web_for(w.gu).post(
            "/uebergaben/neu/", form_data(w.gemeinde.ags, consent_language="")
        )

    assert response.status_code == 400
    assert "Dieses Feld ist erforderlich." in response.content.decode()
    assert Handover.objects.count() == 0


def test_draft_then_submit() -> None:
    w = world()
    web = web_for(w.gu)

    with time_machine.travel(T0, tick=False):
        web.post("/uebergaben/neu/", form_data(w.gemeinde.ags, submit=None, draft="1"))
        draft = Handover.objects.get()
        assert draft.status == HandoverStatus.DRAFT
        web.post(f"/uebergaben/{draft.pk}/absenden/")

    draft.refresh_from_db()
    assert draft.status == HandoverStatus.SUBMITTED


def test_screens_are_404_for_other_roles_and_foreign_handovers() -> None:
    w = world()
    handover = submitted(w)
    auditor = type(w.gu).objects.create(username="aud", role="AUDITOR", traeger=w.manager.traeger)

    assert web_for(w.foreign_manager).get(f"/uebergaben/{handover.pk}/").status_code == 404
    assert web_for(auditor).get("/uebergaben/").status_code == 404
    assert web_for(w.manager).get("/uebergaben/neu/").status_code == 404
    assert web_for(w.manager).get("/uebergaben/import/").status_code == 404
    response = web_for(w.foreign_manager).post(f"/uebergaben/{handover.pk}/annehmen/", {})
    assert response.status_code == 404
    assert Case.objects.count() == 0


def test_manager_sees_incoming_and_accepts_with_the_duplicate_choice() -> None:
    w = world()
    known = PersonFactory(traeger=w.manager.traeger, family_name="Hadad", given_names="Amal")
    handover = submitted(w)
    member_id = handover.members.get().pk
    web = web_for(w.manager)

    listing = web.get("/uebergaben/").content.decode()
    detail = web.get(f"/uebergaben/{handover.pk}/").content.decode()
    undecided = web.post(f"/uebergaben/{handover.pk}/annehmen/", {"assignee": ""})
    with time_machine.travel(T0, tick=False):
        accepted = web.post(
            f"/uebergaben/{handover.pk}/annehmen/",
            {"assignee": "", f"person_{member_id}": str(known.pk)},
        )

    assert f"#{handover.pk}" in listing
    assert f"Nr. {known.pk}" in detail
    assert undecided.status_code == 400
    case = Case.objects.get()
    assert accepted.status_code == 302
    assert accepted["Location"] == f"/faelle/{case.pk}/"  # the case, not its flow diagram
    assert case.person == known


def test_returning_with_a_reason_shows_it_to_the_sender() -> None:
    w = world()
    handover = submitted(w)

    web_for(w.supervisor).post(
        f"/uebergaben/{handover.pk}/zurueck/", {"reason": "WRONG_GEMEINDE", "note": "Nachbarort"}
    )

    page = web_for(w.gu).get(f"/uebergaben/{handover.pk}/").content.decode()
    assert "falsche Gemeinde" in page
    assert "Nachbarort" in page


def test_the_handover_stays_readable_on_the_case_page() -> None:
    w = world()
    handover = submitted(w)
    web = web_for(w.manager)
    with time_machine.travel(T0, tick=False):
        web.post(f"/uebergaben/{handover.pk}/annehmen/", {"assignee": ""})
    case = Case.objects.get()

    page = web.get(f"/aufgaben/fall/{case.pk}/").content.decode()
    supervisor_page = web_for(w.supervisor).get(f"/aufgaben/fall/{case.pk}/").content.decode()

    assert "Sprachkurs, Kita-Platz" in page
    assert "Termin Ausländerbehörde offen" in page
    assert "Gül Test" in page
    assert "Sprachkurs, Kita-Platz" not in supervisor_page


def test_import_page_runs_the_dry_run_and_shows_the_report() -> None:
    w = world()
    content = (
        "external_reference;gemeinde_ags;au_allocation_date;family_name;consent_given;"
        f"gu_contact_name\nR-1;{w.gemeinde.ags};2025-12-01;Haddad;nein;Gül\n"
        f"R-2;{w.gemeinde.ags};2025-13-01;Kovalenko;nein;Gül\n"
    ).encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    with time_machine.travel(T0, tick=False):
        response = web_for(w.gu).post(
            "/uebergaben/import/",
            {"file": SimpleUploadedFile("u.csv", content), "dry_run": "on"},
        )

    assert response.status_code == 400
    assert "nichts wurde gespeichert" in response.content.decode()
    assert Handover.objects.count() == 0


def test_templates_download() -> None:
    w = world()
    web = web_for(w.gu)

    csv_file = web.get("/uebergaben/vorlage.csv")
    xlsx_file = web.get("/uebergaben/vorlage.xlsx")

    assert csv_file.content.startswith(b"\xef\xbb\xbfexternal_reference;gemeinde_ags;")
    assert xlsx_file.content.startswith(b"PK\x03\x04")


def test_seed_demo_shows_submitted_handovers_to_the_demo_managers() -> None:
    from django.core.management import call_command

    from accounts.models import User

    call_command("seed_demo")
    call_command("seed_demo")

    gu = User.objects.get(username="gu")
    assert sorted(
        Handover.objects.filter(submitted_by=gu).values_list("external_reference", "status")
    ) == [
        ("DEMO-GU-1", "SUBMITTED"),
        ("DEMO-GU-2", "SUBMITTED"),
        ("DEMO-GU-3", "SUBMITTED"),
    ]
    page = web_for(User.objects.get(username="manager")).get("/uebergaben/").content.decode()
    assert "Saleh, Mariam" in page
    assert "Ahmadi, Farid" in page


def test_import_report_names_file_problems_in_a_sentence_and_columns_in_german() -> None:
    w = world()
    from django.core.files.uploadedfile import SimpleUploadedFile

    header_only = (
        b"external_reference;gemeinde_ags;au_allocation_date;family_name;consent_given;"
        b"gu_contact_name\n"
    )
    empty = web_for(w.gu).post(
        "/uebergaben/import/",
        {"file": SimpleUploadedFile("u.csv", header_only), "dry_run": "on"},
    )
    bad_date = (
        "external_reference;gemeinde_ags;au_allocation_date;family_name;consent_given;"
        f"gu_contact_name\nR-2;{w.gemeinde.ags};2025-13-01;Kovalenko;nein;Gül\n"
    ).encode()
    with time_machine.travel(T0, tick=False):
        dated = web_for(w.gu).post(
            "/uebergaben/import/",
            {"file": SimpleUploadedFile("u.csv", bad_date), "dry_run": "on"},
        )

    html = empty.content.decode()
    assert "Die Datei insgesamt: Die Datei hat eine Kopfzeile, aber keine Zeilen." in html
    assert "<td data-label" not in html  # no table of rows for a file problem
    dated_html = dated.content.decode()
    assert (
        '<td data-label="Zeile">2</td>'
        '<td data-label="Spalte">Datum der Zuweisung in die Anschlussunterbringung</td>'
    ) in dated_html


def test_the_form_presets_no_relation_or_sex_but_the_contact_persons_role() -> None:
    w = world()

    html = web_for(w.gu).get("/uebergaben/neu/").content.decode()

    first_relation = re.search(r'<select name="members-0-relation".*?</select>', html, re.S)[0]
    second_relation = re.search(r'<select name="members-1-relation".*?</select>', html, re.S)[0]
    second_sex = re.search(r'<select name="members-1-sex".*?</select>', html, re.S)[0]
    assert '<option value="HEAD" selected>' in first_relation
    assert '<option value="" selected>— bitte wählen —</option>' in second_relation
    assert '<option value="" selected>— bitte wählen —</option>' in second_sex
    assert " selected>" not in second_sex.replace('<option value="" selected>', "")


def test_a_further_member_without_relation_is_asked_for_it_at_the_field() -> None:
    w = world()

    response = web_for(w.gu).post(
        "/uebergaben/neu/", form_data(w.gemeinde.ags, **{"members-1-relation": None})
    )

    assert response.status_code == 400
    assert (
        "Bitte wählen Sie, in welcher Beziehung diese Person zur Ansprechperson steht."
        in response.content.decode()
    )
    assert Handover.objects.count() == 0
