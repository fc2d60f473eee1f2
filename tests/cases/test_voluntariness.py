"""Issue 18, rules 4, 6, 7 and 9: voluntariness (a declined plan agreed
later, anonymous counselling), erasure at once after a withdrawal, the legal
hold, the transfer consent and changes of an agreed plan. Each rule through
the service and through the API: rows, audit events and error codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent
from cases import services
from cases.demo import AGREEMENT, add_complete_goal
from cases.models import Case, CaseStatus, Consent, Consultation, Document, IntegrationPlan, Person
from tests.accounts.factories import TeamFactory, UserFactory, api_key
from tests.cases.factories import give_consent, journey_to, manager_in, new_case

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def event_types(case) -> list[str]:
    return list(
        AuditEvent.objects.filter(case_id=case.pk)
        .order_by("seq")
        .values_list("event_type", flat=True)
    )


def dpo_for(case):
    return UserFactory(role=Role.DATA_PROTECTION_OFFICER, team=None, traeger=case.traeger)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def active(now):
    return journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()), now=now)


def to_closing(case, now, ground="CLIENT_REQUEST"):
    for goal in case.plans.get(status="AGREED").goals.all():
        services.goal_update(goal=goal, actor=case.owner, now=now, status="DROPPED")
    return services.case_transition(
        case=case, name="start_closing", actor=case.owner, now=now, ground=ground
    )


# --- rule 7: transfer consent --------------------------------------------------------


def test_written_referral_needs_a_transfer_consent_service(active, now) -> None:
    with pytest.raises(services.GuardFailed) as refused:
        services.referral_record(
            case=active,
            actor=active.owner,
            now=now,
            referred_on=timezone.localdate(now),
            target_service="mbe",
            mode="WRITTEN_REFERRAL",
        )
    assert refused.value.code == "transfer_consent_missing"
    assert not active.referrals.exists()
    assert "cases.referral.recorded" not in event_types(active)

    give_consent(active, scope=Consent.Scope.TRANSFER_TO_RECIPIENT, now=now)
    referral = services.referral_record(
        case=active,
        actor=active.owner,
        now=now,
        referred_on=timezone.localdate(now),
        target_service="mbe",
        mode="WRITTEN_REFERRAL",
    )
    assert referral.mode == "WRITTEN_REFERRAL"
    assert event_types(active)[-1] == "cases.referral.recorded"


def test_written_referral_needs_a_transfer_consent_api(active, now) -> None:
    client = api(active.owner)
    body = {"date": timezone.localdate(now).isoformat(), "target_service": "mbe"}
    refused = client.post(
        f"/api/v1/cases/{active.pk}/referrals/", {**body, "mode": "written_referral"}, format="json"
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "transfer_consent_missing"
    assert "Einwilligung" in refused.json()["detail"]
    assert not active.referrals.exists()
    # Passing nothing on needs no transfer consent.
    fine = client.post(
        f"/api/v1/cases/{active.pk}/referrals/", {**body, "mode": "accompanied"}, format="json"
    )
    assert fine.status_code == 201, fine.content


@pytest.mark.parametrize("reason", ["moved_away", "transferred"])
def test_closure_for_moved_away_or_transferred_needs_a_transfer_consent(
    active, now, reason
) -> None:
    case = to_closing(active, now, ground="MOVED_AWAY")
    with pytest.raises(services.GuardFailed) as refused:
        services.case_transition(
            case=case,
            name="close",
            actor=case.owner,
            now=now,
            closure_reason=reason,
            no_further_need=True,
        )
    assert refused.value.code == "transfer_consent_missing"
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSING
    assert "cases.case.close" not in event_types(case)

    client = api(case.owner)
    response = client.post(
        f"/api/v1/cases/{case.pk}/transitions/close/",
        {"closure_reason": reason, "no_further_need": True},
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (409, "transfer_consent_missing")

    give_consent(case, scope=Consent.Scope.HANDOVER_OUT, now=now)
    response = client.post(
        f"/api/v1/cases/{case.pk}/transitions/close/",
        {"closure_reason": reason, "no_further_need": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert "cases.case.close" in event_types(case)


# --- rule 9: a change of the agreed plan ------------------------------------------


def test_goal_added_to_an_agreed_plan_is_a_draft_needing_agreement_service(active, now) -> None:
    agreed = active.plans.get(status="AGREED")
    goal = services.goal_add(
        case=active,
        actor=active.owner,
        now=now,
        field_of_action="work",
        title="Praktikum finden",
        success_criterion="Vertrag unterschrieben",
        target_date=timezone.localdate(now) + timedelta(days=100),
    )
    change = services.plan_change_pending(active)
    assert goal.plan_id == change.pk
    assert (goal.status, goal.agreed_at) == ("PROPOSED", None)
    assert change.version == agreed.version + 1
    assert change.agreed_at is None
    agreed.refresh_from_db()
    assert agreed.status == "AGREED"  # still in force
    assert agreed.goals.count() == 1
    assert change.goals.count() == 2
    # The API's current plan (and the PDF) is the agreed version.
    assert api(active.owner).get(f"/api/v1/cases/{active.pk}/plan/").json()["id"] == agreed.pk
    # A review must wait for the decision.
    with pytest.raises(services.GuardFailed) as refused:
        services.case_transition(case=active, name="review_plan", actor=active.owner, now=now)
    assert refused.value.code == "plan_change_pending"

    plan = services.plan_version_agree(case=active, actor=active.owner, now=now, **AGREEMENT)
    agreed.refresh_from_db()
    assert (plan.pk, plan.status, agreed.status) == (change.pk, "AGREED", "SUPERSEDED")
    goal.refresh_from_db()
    assert (goal.status, goal.agreed_at) == ("AGREED", now)
    carried = plan.goals.exclude(pk=goal.pk).get()
    assert carried.agreed_at == carried.origin.agreed_at  # the first agreement stays
    types = event_types(active)
    assert types[-1] == "cases.plan.agreed"
    assert "cases.goal.added" in types
    with pytest.raises(services.GuardFailed) as nothing:
        services.plan_version_agree(case=active, actor=active.owner, now=now, **AGREEMENT)
    assert nothing.value.code == "no_plan_change"


def test_changed_target_date_of_an_agreed_goal_needs_agreement_api(active, now) -> None:
    agreed = active.plans.get(status="AGREED")
    goal = agreed.goals.get()
    old_date = goal.target_date
    client = api(active.owner)
    new_date = (timezone.localdate(now) + timedelta(days=200)).isoformat()

    response = client.patch(
        f"/api/v1/cases/{active.pk}/plan/goals/{goal.pk}/",
        {"target_date": new_date, "success_criterion": "B1-Zertifikat und Kursende"},
        format="json",
    )
    assert response.status_code == 200, response.content
    changed = response.json()
    assert changed["id"] != goal.pk
    goal.refresh_from_db()
    assert goal.target_date == old_date  # the agreed version stays in force
    pending = client.get(f"/api/v1/cases/{active.pk}/plan/change/")
    assert pending.status_code == 200
    assert pending.json()["status"] == "revision"
    assert pending.json()["goals"][0]["target_date"] == new_date
    assert client.get(f"/api/v1/cases/{active.pk}/plan/").json()["goals"][0]["target_date"] == (
        old_date.isoformat()
    )
    event = AuditEvent.objects.filter(case_id=active.pk, event_type="cases.goal.updated").last()
    assert event.data["changed"] == ["success_criterion", "target_date"]

    bad = client.post(f"/api/v1/cases/{active.pk}/plan/agree/", {}, format="json")
    assert bad.status_code == 400
    response = client.post(
        f"/api/v1/cases/{active.pk}/plan/agree/",
        {"agreement_form": "documented_verbal", "agreement_language": "ar"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["version"]) == ("agreed", agreed.version + 1)
    agreed.refresh_from_db()
    assert agreed.status == "SUPERSEDED"
    again = client.post(
        f"/api/v1/cases/{active.pk}/plan/agree/",
        {"agreement_form": "documented_verbal", "agreement_language": "ar"},
        format="json",
    )
    assert (again.status_code, again.json()["code"]) == (409, "no_plan_change")


def test_discarded_change_leaves_the_agreed_plan(active, now) -> None:
    agreed = active.plans.get(status="AGREED")
    goal = agreed.goals.get()
    services.goal_update(goal=goal, actor=active.owner, now=now, title="Deutschkurs C1")
    client = api(active.owner)
    response = client.delete(f"/api/v1/cases/{active.pk}/plan/change/")
    assert (response.status_code, response.json()["status"]) == (200, "closed")
    goal.refresh_from_db()
    assert goal.title != "Deutschkurs C1"
    assert event_types(active)[-1] == "cases.plan.change_discarded"
    assert client.get(f"/api/v1/cases/{active.pk}/plan/change/").status_code == 404


# --- rule 4: voluntariness ----------------------------------------------------------


def declined(now):
    case = journey_to(CaseStatus.PLANNING, owner=manager_in(TeamFactory()), now=now)
    return services.case_transition(
        case=case, name="decline_plan", actor=case.owner, now=now, reason="möchte keinen Plan"
    )


def test_declined_plan_can_be_drafted_and_agreed_later_service(now) -> None:
    case = declined(now)
    assert case.plan_declined
    assert case.status == CaseStatus.ACTIVE
    plan = services.plan_redraft_after_decline(case=case, actor=case.owner, now=now)
    assert (plan.status, plan.version) == ("DRAFT", 1)  # the declined draft comes back
    add_complete_goal(case, now)
    agreed = services.plan_version_agree(case=case, actor=case.owner, now=now, **AGREEMENT)
    case.refresh_from_db()
    assert (agreed.status, agreed.agreed_at, agreed.version) == ("AGREED", now, 1)
    assert not case.plan_declined
    assert case.next_review_at is not None
    assert agreed.goals.get().status == "AGREED"
    types = event_types(case)
    assert types[-1] == "cases.plan.agreed"
    assert "cases.plan.drafted_after_decline" in types
    with pytest.raises(services.GuardFailed) as refused:
        services.plan_redraft_after_decline(case=case, actor=case.owner, now=now)
    assert refused.value.code == "plan_not_declined"


def test_declined_plan_can_be_drafted_and_agreed_later_api(now) -> None:
    case = declined(now)
    client = api(case.owner)
    response = client.post(f"/api/v1/cases/{case.pk}/plan/draft/")
    assert (response.status_code, response.json()["status"]) == (201, "draft")
    empty = client.post(
        f"/api/v1/cases/{case.pk}/plan/agree/",
        {"agreement_form": "signature", "agreement_language": "ar"},
        format="json",
    )
    assert (empty.status_code, empty.json()["code"]) == (409, "plan_has_no_goals")
    add_complete_goal(case, now)
    response = client.post(
        f"/api/v1/cases/{case.pk}/plan/agree/",
        {"agreement_form": "signature", "agreement_language": "ar"},
        format="json",
    )
    assert (response.status_code, response.json()["status"]) == (200, "agreed")
    assert client.get(f"/api/v1/cases/{case.pk}/").json()["plan_declined"] is False


def test_anonymous_counselling_switched_on_and_counted(now) -> None:
    case = new_case(now=now)
    case = services.case_anonymous_mode_set(case=case, actor=case.owner, now=now)
    assert case.anonymous_mode
    person = Person.objects.get(pk=case.person_id)
    assert (person.family_name, person.given_names, person.phone) == (f"Anonym #{case.pk}", "", "")
    assert event_types(case)[-1] == "cases.case.anonymous_mode_set"
    # No consent needed for the first consultation of anonymous counselling.
    from cases.demo import to_initial_counselling

    to_initial_counselling(case, now)
    case.refresh_from_db()
    assert case.status == CaseStatus.INITIAL_COUNSELLING
    assert Consultation.objects.filter(case=case, status="COMPLETED").count() == 1
    figures = kennzahlen(case, now)  # counted as a person, by form and topic
    assert (figures["k1_persons"], figures["k2_consultations"]) == (1, 1)
    assert sum(row["count"] for row in figures["k2a_by_form"]) == 1
    with pytest.raises(services.GuardFailed) as refused:
        services.case_anonymous_mode_set(case=case, actor=case.owner, now=now)
    assert refused.value.code == "anonymous_not_allowed"


def test_anonymous_mode_through_the_api_refused_once_consented(now) -> None:
    fresh = new_case(now=now)
    client = api(fresh.owner)
    response = client.post(f"/api/v1/cases/{fresh.pk}/anonymous-mode/")
    assert (response.status_code, response.json()["anonymous_mode"]) == (200, True)
    consented = new_case(owner=fresh.owner, now=now)
    give_consent(consented, now=now)
    response = client.post(f"/api/v1/cases/{consented.pk}/anonymous-mode/")
    assert (response.status_code, response.json()["code"]) == (409, "anonymous_not_allowed")
    assert not Case.objects.get(pk=consented.pk).anonymous_mode


# --- rule 6: erasure at once after a withdrawal; the legal hold ----------------------


def kennzahlen(case, now) -> dict:
    """K1, K2 and its breakdowns of the case owner's figures for the year."""
    from reports.selectors import Period, Unit, UnitKind, kennzahlen_compute

    figures = kennzahlen_compute(
        unit=Unit(UnitKind.MANAGER, case.owner_id, ""),
        period=Period.year(timezone.localdate(now).year),
    )
    return {
        key: figures[key]
        for key in ("k1_persons", "k2_consultations", "k2a_by_form", "k2b_by_topic")
    }


def test_withdrawal_erases_at_once_where_consent_was_the_only_basis(
    active, now, django_capture_on_commit_callbacks
) -> None:
    counted = kennzahlen(active, now)
    assert counted["k2_consultations"] >= 1
    with django_capture_on_commit_callbacks(execute=True):
        services.case_transition(
            case=active, name="withdraw_consent", actor=active.owner, now=now, channel="WRITTEN"
        )
    case = Case.objects.get(pk=active.pk)
    assert case.status == CaseStatus.DELETED
    assert case.deleted_at == now
    person = Person.objects.get(pk=case.person_id)
    assert person.family_name == "—"
    assert person.anonymised_at == now
    # Proof and statistics stay: the consent codes, the consultations' counts.
    consent = Consent.objects.get(person_id=case.person_id, scope="CASE_PROCESSING")
    assert consent.withdrawn_at == now
    assert consent.withdrawal_channel == "WRITTEN"
    assert kennzahlen(case, now) == counted  # statistics already counted stay
    types = event_types(case)
    assert types[-2:] == ["cases.case.withdraw_consent", "cases.case.erased_after_withdrawal"]
    erased = AuditEvent.objects.get(
        case_id=case.pk, event_type="cases.case.erased_after_withdrawal"
    )
    assert (erased.transition, erased.to_state, erased.actor_id) == (
        "retention_elapsed",
        CaseStatus.DELETED,
        None,
    )


def test_legal_hold_stops_the_erasure_and_the_dpo_lifts_it_service(
    active, now, django_capture_on_commit_callbacks
) -> None:
    dpo = dpo_for(active)
    with pytest.raises(services.InvalidArguments):
        services.case_legal_hold_set(case=active, actor=dpo, now=now, hold=True)
    with pytest.raises(services.TransitionForbidden):
        services.case_legal_hold_set(
            case=active, actor=active.owner, now=now, hold=True, reason="Klage"
        )
    services.case_legal_hold_set(
        case=active, actor=dpo, now=now, hold=True, reason="Klage vor dem Sozialgericht"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.case_transition(
            case=active, name="withdraw_consent", actor=active.owner, now=now, channel="PHONE"
        )
    case = Case.objects.get(pk=active.pk)
    assert (case.status, case.legal_hold) == (CaseStatus.CLOSED, True)
    assert Person.objects.get(pk=case.person_id).anonymised_at is None
    with pytest.raises(services.GuardFailed) as held:
        services.case_erase_after_withdrawal(case=case, actor=dpo, now=now)
    assert held.value.code == "legal_hold"

    services.case_legal_hold_set(case=case, actor=dpo, now=now, hold=False)
    case = services.case_erase_after_withdrawal(case=case.pk, actor=dpo, now=now)
    assert case.status == CaseStatus.DELETED
    types = event_types(case)
    assert "cases.case.legal_hold_set" in types
    assert "cases.case.legal_hold_lifted" in types
    assert types[-1] == "cases.case.erased_after_withdrawal"
    hold = AuditEvent.objects.get(case_id=case.pk, event_type="cases.case.legal_hold_set")
    assert hold.reason == "Klage vor dem Sozialgericht"
    assert hold.actor_id == dpo.pk


def test_legal_hold_and_erasure_through_the_api(active, now) -> None:
    dpo = dpo_for(active)
    client = api(dpo)
    url = f"/api/v1/cases/{active.pk}"
    assert api(active.owner).post(
        f"{url}/legal-hold/", {"legal_hold": True, "reason": "x"}, format="json"
    ).status_code in (403, 404)
    missing = client.post(f"{url}/legal-hold/", {"legal_hold": True}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (400, "invalid")
    response = client.post(
        f"{url}/legal-hold/", {"legal_hold": True, "reason": "Prüfung Rechnungshof"}, format="json"
    )
    assert (response.status_code, response.json()["legal_hold"]) == (200, True)
    twice = client.post(f"{url}/legal-hold/", {"legal_hold": True, "reason": "y"}, format="json")
    assert (twice.status_code, twice.json()["code"]) == (409, "legal_hold_unchanged")
    # An open case is not erased after a withdrawal it did not have.
    refused = client.post(f"{url}/erasure/")
    assert (refused.status_code, refused.json()["code"]) == (409, "legal_hold")
    client.post(f"{url}/legal-hold/", {"legal_hold": False}, format="json")
    refused = client.post(f"{url}/erasure/")
    assert (refused.status_code, refused.json()["code"]) == (409, "erasure_not_allowed")
    assert Case.objects.get(pk=active.pk).status == CaseStatus.ACTIVE
    assert IntegrationPlan.objects.filter(case=active).exists()


def medical_proof(case, now):
    from django.core.files.base import ContentFile

    document = Document(
        case=case,
        kind=Document.Kind.MEDICAL_PROOF,
        sensitivity=Document.Sensitivity.ART9,
        sha256="0" * 64,
        uploaded_by=case.owner,
        uploaded_at=now,
    )
    document.file.save("attest.pdf", ContentFile(b"%PDF-1.4 attest"), save=False)
    document.save()
    return document


def test_withdrawn_art9_consent_erases_the_health_documents_at_once(
    active, now, django_capture_on_commit_callbacks
) -> None:
    art9 = give_consent(active, scope=Consent.Scope.SPECIAL_CATEGORIES_ART9, now=now)
    proof = medical_proof(active, now)
    stored = proof.file.name
    storage = proof.file.storage
    client = api(active.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/cases/{active.pk}/consents/{art9.pk}/withdraw/",
            {"channel": "in_person"},
            format="json",
        )
    assert response.status_code == 200, response.content
    proof.refresh_from_db()
    assert (proof.file.name, proof.sha256) == ("", "")
    assert not storage.exists(stored)
    event = AuditEvent.objects.filter(
        case_id=active.pk, event_type="cases.consent.withdrawn"
    ).last()
    assert event.data["erased_documents"] == 1
    # The processing consent (another scope) and the case stay.
    assert Case.objects.get(pk=active.pk).status == CaseStatus.ACTIVE
    again = client.post(
        f"/api/v1/cases/{active.pk}/consents/{art9.pk}/withdraw/",
        {"channel": "in_person"},
        format="json",
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_decided")


def test_withdrawing_another_consent_keeps_the_health_documents(active, now) -> None:
    give_consent(active, scope=Consent.Scope.SPECIAL_CATEGORIES_ART9, now=now)
    messenger = give_consent(active, scope=Consent.Scope.MESSENGER_CONTACT, now=now)
    proof = medical_proof(active, now)
    services.consent_withdraw(consent=messenger, actor=active.owner, now=now, channel="PHONE")
    proof.refresh_from_db()
    assert proof.file.name != ""
    event = AuditEvent.objects.filter(
        case_id=active.pk, event_type="cases.consent.withdrawn"
    ).last()
    assert event.data["erased_documents"] == 0
