"""The access chokepoint: who sees which case, and every read is logged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.models import Role
from audit.models import ReadAccess
from cases.models import CaseStatus
from cases.selectors import CaseNotFound, case_get_for_user, cases_visible_to
from tests.accounts.factories import DeputyGrantFactory, TeamFactory, UserFactory
from tests.cases.factories import T0, journey_to, manager_in, new_case, supervisor_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_teams():
    team = TeamFactory()
    other_team = TeamFactory(traeger=team.traeger)
    owner = manager_in(team)
    colleague = manager_in(team)
    return {
        "owner": owner,
        "colleague": colleague,
        "supervisor": supervisor_of(team),
        "other_supervisor": supervisor_of(other_team),
        "other_manager": manager_in(other_team),
        "auditor": UserFactory(role=Role.AUDITOR, team=None, traeger=team.traeger),
        "foreign_auditor": UserFactory(role=Role.AUDITOR, team=None, traeger=TeamFactory().traeger),
        "gu": UserFactory(role=Role.GU_SOCIAL_WORKER, team=None, traeger=team.traeger),
        "admin": UserFactory(
            role=Role.ADMINISTRATOR, team=None, traeger=None, is_staff=True, is_superuser=True
        ),
        "case": new_case(owner=owner),
    }


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("owner", True),
        ("colleague", False),
        ("supervisor", True),
        ("other_supervisor", False),
        ("other_manager", False),
        ("auditor", True),
        ("foreign_auditor", False),
        ("gu", False),
        ("admin", False),
    ],
)
def test_cases_visible_to_by_role(two_teams, who: str, sees: bool) -> None:
    visible = cases_visible_to(user=two_teams[who], now=T0)

    assert list(visible.values_list("pk", flat=True)) == ([two_teams["case"].pk] if sees else [])


def test_inactive_user_sees_nothing(two_teams) -> None:
    owner = two_teams["owner"]
    owner.is_active = False
    owner.save()

    assert cases_visible_to(user=owner, now=T0).count() == 0


def test_deputy_sees_principals_cases_only_within_the_grant(two_teams) -> None:
    grant = DeputyGrantFactory(
        principal=two_teams["owner"],
        deputy=two_teams["colleague"],
        valid_from=T0,
        valid_until=T0 + timedelta(days=7),
    )
    deputy = two_teams["colleague"]

    assert cases_visible_to(user=deputy, now=T0 - timedelta(seconds=1)).count() == 0
    assert cases_visible_to(user=deputy, now=T0).count() == 1
    assert cases_visible_to(user=deputy, now=grant.valid_until).count() == 0
    grant.revoked_at = T0
    grant.save()
    assert cases_visible_to(user=deputy, now=T0 + timedelta(days=1)).count() == 0


def test_case_get_for_user_logs_one_read(two_teams) -> None:
    case = two_teams["case"]

    found = case_get_for_user(user=two_teams["owner"], case_id=case.pk, now=T0, view="test")

    assert found == case
    assert list(
        ReadAccess.objects.filter(case_id=case.pk).values_list("user_id", "view", "accessed_at")
    ) == [(two_teams["owner"].pk, "test", T0)]


@pytest.mark.parametrize("case_id", ["foreign", "missing", "garbage"])
def test_case_get_for_user_does_not_tell_foreign_from_missing(two_teams, case_id: str) -> None:
    ids = {"foreign": two_teams["case"].pk, "missing": 999_999, "garbage": "1;DROP"}

    with pytest.raises(CaseNotFound) as excinfo:
        case_get_for_user(
            user=two_teams["other_manager"], case_id=ids[case_id], now=T0, view="test"
        )

    assert (excinfo.value.code, excinfo.value.http_status) == ("not_found", 404)
    assert ReadAccess.objects.count() == 0


def test_deleted_cases_vanish_for_managers_but_not_for_auditors() -> None:
    case = journey_to(CaseStatus.REJECTED)
    from cases.services import case_transition

    case_transition(
        case=case, name="retention_elapsed", actor=None, now=T0.replace(year=2030, month=1, day=1)
    )
    auditor = UserFactory(role=Role.AUDITOR, team=None, traeger=case.traeger)

    assert cases_visible_to(user=case.owner, now=T0).count() == 0
    assert cases_visible_to(user=auditor, now=T0).count() == 1
