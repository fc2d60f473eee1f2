"""The transfer screens: one request per path, in German, refusals at the form."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from accounts.models import User
from cases.models import Case, CaseStatus, Consent
from tests.accounts.factories import TeamFactory
from tests.cases.factories import give_consent, journey_to, manager_in, supervisor_of
from tests.transfers.test_package import RECEIVER, SENDER
from transfers.models import TransferPackage

pytestmark = pytest.mark.django_db


def web(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_case_page_links_and_single_transfer_with_the_consent_refusal() -> None:
    team = TeamFactory()
    old, new, lead = manager_in(team), manager_in(team), supervisor_of(team)
    foreign = manager_in(TeamFactory())
    case = journey_to(CaseStatus.ACTIVE, owner=old)
    page = web(lead).get(f"/faelle/{case.pk}/").content.decode()
    assert "Fall übergeben" in page
    assert "Übergabepaket" in web(old).get(f"/faelle/{case.pk}/").content.decode()

    refused = web(lead).post(
        f"/fallwechsel/fall/{case.pk}/", {"owner": foreign.pk, "reason": "PERSON_MOVED"}
    )
    assert refused.status_code == 409
    assert "Einwilligung der Person in die Übermittlung" in refused.content.decode()
    assert Case.objects.get(pk=case.pk).owner_id == old.pk

    done = web(lead).post(f"/fallwechsel/fall/{case.pk}/", {"owner": new.pk, "reason": "ABSENCE"})
    assert done.status_code == 302
    assert Case.objects.get(pk=case.pk).owner_id == new.pk
    assert web(old).get(f"/faelle/{case.pk}/").status_code == 404
    assert web(old).get(f"/fallwechsel/fall/{case.pk}/").status_code == 404


def test_reassign_screen_lists_the_cases_and_moves_all() -> None:
    team = TeamFactory()
    leaving, successor, lead = manager_in(team), manager_in(team), supervisor_of(team)
    cases = [journey_to(CaseStatus.ACTIVE, owner=leaving) for _ in range(2)]
    page = web(lead).get("/fallwechsel/neu-zuweisen/", {"manager": leaving.pk})
    assert page.status_code == 200
    text = page.content.decode()
    assert all(f'value="{c.pk}"' in text for c in cases)
    assert "Fälle neu zuweisen" in text

    moved = web(lead).post(
        f"/fallwechsel/neu-zuweisen/?manager={leaving.pk}",
        {"scope": "alle", "owner": successor.pk, "reason": "LEAVING"},
    )
    assert moved.status_code == 302
    assert set(
        Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("owner", flat=True)
    ) == {successor.pk}
    assert web(leaving).get("/fallwechsel/neu-zuweisen/").status_code == 404
    empty = web(lead).get("/fallwechsel/neu-zuweisen/", {"manager": leaving.pk})
    assert "keine" in empty.content.decode()


def test_export_download_and_import_screen_with_the_refusal_of_a_tampered_file() -> None:
    team = TeamFactory()
    case = journey_to(CaseStatus.ACTIVE, owner=manager_in(team))
    give_consent(case, scope=Consent.Scope.TRANSFER_TO_RECIPIENT)
    with override_settings(**SENDER):
        form = web(case.owner).get(f"/fallwechsel/fall/{case.pk}/paket/")
        assert "lotse.kreis-b.example" in form.content.decode()
        download = web(case.owner).post(
            f"/fallwechsel/fall/{case.pk}/paket/", {"target": "lotse.kreis-b.example"}
        )
        assert (
            web(supervisor_of(team)).get(f"/fallwechsel/fall/{case.pk}/paket/").status_code == 403
        )
    assert download.status_code == 200
    assert download["Content-Type"] == "application/json"
    content = download.content

    manager = manager_in(TeamFactory())
    with override_settings(**RECEIVER):
        tampered = content.replace(b'"payload": "', b'"payload": "AAAA', 1)
        refused = web(manager).post(
            "/fallwechsel/paket-einlesen/",
            {"file": SimpleUploadedFile("p.json", tampered), "owner": manager.pk},
        )
        assert refused.status_code == 400
        assert "Signatur des Pakets passt nicht" in refused.content.decode()
        taken = web(manager).post(
            "/fallwechsel/paket-einlesen/",
            {"file": SimpleUploadedFile("p.json", content), "owner": manager.pk},
        )
    record = TransferPackage.objects.get(direction="IMPORTED")
    assert taken.status_code == 302
    assert taken["Location"] == f"/faelle/{record.case_id}/"
    case_page = web(manager).get(f"/faelle/{record.case_id}/").content.decode()
    assert "Übernommen von lotse.kreis-a.example" in case_page
    received = web(manager).get(f"/fallwechsel/fall/{record.case_id}/uebernommen/")
    assert received.status_code == 200
    assert "geprüft" in received.content.decode()
    assert (
        web(manager_in(TeamFactory()))
        .get(f"/fallwechsel/fall/{record.case_id}/uebernommen/")
        .status_code
        == 404
    )


@pytest.mark.parametrize("who", ["other_lead", "same_team_manager", "auditor", "gu"])
def test_the_case_screens_are_404_for_everyone_else(who: str) -> None:
    from accounts.models import Role
    from tests.accounts.factories import UserFactory

    team = TeamFactory()
    case = journey_to(CaseStatus.ACTIVE, owner=manager_in(team))
    give_consent(case, scope=Consent.Scope.TRANSFER_TO_RECIPIENT)
    user = {
        "other_lead": lambda: supervisor_of(TeamFactory(traeger=team.traeger)),
        "same_team_manager": lambda: manager_in(team),
        "auditor": lambda: UserFactory(role=Role.AUDITOR, team=None, traeger=team.traeger),
        "gu": lambda: UserFactory(role=Role.GU_SOCIAL_WORKER, team=None, traeger=None),
    }[who]()
    client = web(user)
    # The auditor of the case's Träger sees the case's metadata: its content
    # pages are 403 (config/access_matrix.py), the supervisor's screen 404.
    content = 403 if who == "auditor" else 404
    for url, status in (
        (f"/fallwechsel/fall/{case.pk}/", 404),
        (f"/fallwechsel/fall/{case.pk}/paket/", content),
        (f"/fallwechsel/fall/{case.pk}/uebernommen/", content),
    ):
        assert client.get(url).status_code == status, url
        assert client.post(url, {"owner": user.pk, "target": "x"}).status_code == status, url
    assert Case.objects.get(pk=case.pk).owner_id == case.owner_id
    assert not TransferPackage.objects.exists()


def test_the_received_file_is_shown_with_labels_and_dates() -> None:
    from datetime import date

    from tests.cases.factories import ensure_catalogues
    from transfers.selectors import received_file_display

    ensure_catalogues()
    shown = received_file_display(
        payload={
            "household": [
                {"family_name": "A", "given_names": "B", "relation": "CHILD", "this_person": False}
            ],
            "clock": {"first_consultation_on": "2025-02-03", "extension": {"reason": "illiteracy"}},
            "plan": {"goals": [{"field_of_action": "work", "status": "ACHIEVED"}]},
            "consultations": [{"held_on": "2025-02-03", "topics": ["language"]}],
        }
    )
    assert shown["household"][0]["relation"] == "Kind"
    assert shown["clock"]["first_consultation_on"] == date(2025, 2, 3)
    assert shown["clock"]["extension"]["reason"] != "illiteracy"
    assert shown["plan"]["goals"][0]["field_of_action"] != "work"
    assert shown["consultations"][0]["topics"] != ["language"]
