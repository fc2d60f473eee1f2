"""The extension request from the case page: offered while the effective
end lies within LOTSE_EXTENSION_REQUEST_MONTHS, the same service as the
check task and the API, decided under four eyes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from cases import services
from cases.models import CaseStatus, ExtensionRequest
from cases.selectors import extension_request_offered
from tests.accounts.factories import TeamFactory
from tests.cases.factories import BERLIN, journey_to, manager_in, supervisor_of
from tests.cases.test_services import snapshot
from workflows import engine

pytestmark = pytest.mark.django_db

# journey_to(ACTIVE) starts the period on 05.01.2026: regular end 04.01.2029.
EIGHT_MONTHS_BEFORE = datetime(2028, 5, 2, 10, tzinfo=BERLIN)
FIVE_MONTHS_BEFORE = datetime(2028, 8, 1, 10, tzinfo=BERLIN)
AFTER_THE_END = datetime(2029, 1, 10, 10, tzinfo=BERLIN)
LINK = "Verlängerung beantragen"
BODY = {"reason": "illiteracy", "months": "12", "justification": "Alphabetisierungskurs läuft"}


@pytest.fixture
def case() -> Any:
    return journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()))


def web(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_url(case: Any) -> str:
    return reverse("cases:extension_request_new", args=[case.pk])


def detail(case: Any, user: Any) -> str:
    return web(user).get(reverse("cases:detail", args=[case.pk])).content.decode()


def open_names(case: Any) -> list[str]:
    return [t.flow_task.name for t in engine.open_tasks(case) if t.flow_task_type == "HUMAN"]


def test_the_window_follows_the_setting(case: Any, settings: Any) -> None:
    assert settings.LOTSE_EXTENSION_REQUEST_MONTHS == 6
    assert not extension_request_offered(case=case, now=EIGHT_MONTHS_BEFORE)
    assert extension_request_offered(case=case, now=FIVE_MONTHS_BEFORE)
    assert not extension_request_offered(case=case, now=AFTER_THE_END)
    settings.LOTSE_EXTENSION_REQUEST_MONTHS = 9
    assert extension_request_offered(case=case, now=EIGHT_MONTHS_BEFORE)


def test_outside_the_window_the_page_offers_nothing_and_writes_nothing(case: Any) -> None:
    before = snapshot(case)

    with time_machine.travel(EIGHT_MONTHS_BEFORE, tick=False):
        html = detail(case, case.owner)
        shown = web(case.owner).get(page_url(case))
        posted = web(case.owner).post(page_url(case), BODY)

    assert LINK not in html
    assert (shown.status_code, posted.status_code) == (409, 409)
    assert "innerhalb der nächsten 6 Monate" in posted.content.decode()
    assert snapshot(case) == before


def test_inside_the_window_the_request_goes_from_the_case_page_to_the_supervisor(
    case: Any,
) -> None:
    lead = supervisor_of(case.owner.team)

    with time_machine.travel(FIVE_MONTHS_BEFORE, tick=False):
        html = detail(case, case.owner)
        form = web(case.owner).get(page_url(case))
        posted = web(case.owner).post(page_url(case), BODY)
        after = detail(case, case.owner)

    assert LINK in html
    assert f'href="{page_url(case)}"' in html
    assert form.status_code == 200
    assert '<option value="illiteracy">' in form.content.decode()
    assert posted.status_code == 302
    assert posted["Location"] == reverse("cases:detail", args=[case.pk])
    request = ExtensionRequest.objects.get(case=case)
    assert (request.status, request.requested_by, request.months, request.reason.key) == (
        "SUBMITTED",
        case.owner,
        12,
        "illiteracy",
    )
    event = AuditEvent.objects.filter(case_id=case.pk, object_type="extensionrequest")
    assert list(event.values_list("event_type", flat=True)) == ["cases.extension_request.submitted"]
    # no second request while this one waits
    assert LINK not in after
    # the flow waits for the supervisor's decision: four eyes as for every request
    assert "approve_extension" in open_names(case)
    with pytest.raises(services.SelfApproval):
        services.extension_request_approve(
            request=request, actor=case.owner, now=FIVE_MONTHS_BEFORE, note="selbst"
        )
    request = services.extension_request_approve(
        request=request, actor=lead, now=FIVE_MONTHS_BEFORE, note="ok"
    )
    case.refresh_from_db()
    assert (request.status, str(case.effective_end)) == ("APPROVED", "2030-01-04")


def test_bad_input_is_shown_at_its_field_and_writes_nothing(case: Any) -> None:
    before = snapshot(case)

    with time_machine.travel(FIVE_MONTHS_BEFORE, tick=False):
        missing = web(case.owner).post(page_url(case), {**BODY, "justification": ""})
        art9 = web(case.owner).post(page_url(case), {**BODY, "reason": "disability"})

    assert missing.status_code == 400
    assert "Dieses Feld ist erforderlich." in missing.content.decode()
    assert art9.status_code == 409
    assert "Einwilligung" in art9.content.decode()
    assert snapshot(case) == before


def test_metadata_readers_cannot_request(case: Any) -> None:
    lead = supervisor_of(case.owner.team)
    before = snapshot(case)

    with time_machine.travel(FIVE_MONTHS_BEFORE, tick=False):
        html = detail(case, lead)
        posted = web(lead).post(page_url(case), BODY)

    assert LINK not in html
    assert posted.status_code == 403
    assert snapshot(case) == before


def test_the_api_submits_through_the_same_service(case: Any) -> None:
    api = APIClient()
    api.force_authenticate(case.owner)

    with time_machine.travel(FIVE_MONTHS_BEFORE, tick=False):
        response = api.post(
            f"/api/v1/cases/{case.pk}/extension-requests/",
            {"reason": "illiteracy", "months": 6, "justification": "Kurs läuft"},
            format="json",
        )
        html = detail(case, case.owner)

    assert response.status_code == 201, response.json()
    assert ExtensionRequest.objects.get(case=case).status == "SUBMITTED"
    assert "approve_extension" in open_names(case)
    assert LINK not in html  # the page offers no second request
