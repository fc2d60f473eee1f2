"""The guided work of a case as a viewflow flow.

Gateways route on `case.status` (read fresh from the database, never copied
into `process.data`). The flow starts at whatever state the case is in, so
`workflows.services.case_flow_restart` can cancel a process and start the next one
after any change made outside the flow (sweeps, API, case actions).

Which tasks may be open in which state (tests/workflows check it after
every step):

    REGISTERED           accept_handover | first_consultation
    INITIAL_COUNSELLING  needs_assessment            + extension branch
    PLANNING             integration_plan            + extension branch
    ACTIVE               review_timer | review_plan  + extension branch
                         (none on the main branch when the plan was declined)
    DORMANT              resume                      + extension branch
    CLOSING              final_referral
    CLOSED, REJECTED,    nothing
    DELETED

    extension branch: approve_extension while a request waits, otherwise
    extension_timer | extension_check until the check was done once, and
    nothing once the person's one extension is used (in any case, or known
    from a migration, a transfer package or another Träger).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from cases.clock import add_months
from cases.models import (
    CLOCK_STATES,
    Case,
    CaseStatus,
    ExtensionRequest,
    ExtensionStatus,
)
from workflows import views
from workflows.facts import case_facts, case_of
from workflows.lock import case_lock
from workflows.models import CaseProcess
from workflows.nodes import SUPERVISOR, CaseTask, End, Split, StartHandle, Switch, Timer

WORK = "workflows.work_case"
DECIDE = "workflows.decide_extension"


def _status_is(*states: str) -> Any:
    return lambda activation: case_of(activation).status in states


def _needs_acceptance(activation: Any) -> bool:
    case = case_of(activation)
    return (
        case.status == CaseStatus.REGISTERED
        and case.intake_channel == Case.IntakeChannel.HANDOVER_FSA
        and case.handover_accepted_at is None
    )


def _has_agreed_plan(activation: Any) -> bool:
    case = case_of(activation)
    return (
        case.status == CaseStatus.ACTIVE
        and case.next_review_at is not None
        and case_facts(activation)["agreed_plan"]
    )


def _request_waiting(activation: Any) -> bool:
    case = case_of(activation)
    return case.status in CLOCK_STATES and case_facts(activation)["request_waiting"]


def _extension_check_open(activation: Any) -> bool:
    """The case may still get its one extension and nobody has decided
    yet whether to ask for it.

    The extension is the person's, not the case's (DOMAIN.md §5): one used
    in another case, or known from elsewhere (a migrated caseload, a
    transfer package, another Träger's proof), closes the branch too: the
    fact `person_extension_used` reads it as the person's clock does
    (`cases.person_clock.person_extension`)."""
    case = case_of(activation)
    if case.status not in CLOCK_STATES or case.regular_end is None:
        return False
    facts = case_facts(activation)
    return not (
        facts["request_approved"] or facts["extension_checked"] or facts["person_extension_used"]
    )


def _owner(activation: Any) -> Any:
    return case_of(activation).owner


# --- clocks ------------------------------------------------------------------


def _morning(day: date) -> datetime:
    """08:00 Berlin time on `day`: timers fire at the start of a working day."""
    return timezone.make_aware(datetime.combine(day, time(8)), timezone.get_default_timezone())


def review_due(case: Case) -> datetime:
    """When the review task appears: the notice period before the review.

    Asked only of an active case with an agreed plan (`_has_agreed_plan`),
    which has a review date."""
    if case.next_review_at is None:
        raise ValueError(f"case {case.pk} has no review date")
    return _morning(case.next_review_at - timedelta(days=settings.LOTSE_REVIEW_NOTICE_DAYS))


def extension_check_due(case: Case) -> datetime:
    """Asked only of a case in its period (`_extension_check_open`), which
    has a regular end."""
    if case.regular_end is None:
        raise ValueError(f"case {case.pk} has no regular end")
    return _morning(case.regular_end - timedelta(days=settings.LOTSE_EXTENSION_CHECK_DAYS))


def _local(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment else None


def _plus_days(day: date | None, days: int) -> date | None:
    return day + timedelta(days=days) if day else None


def _approval_due(case: Case) -> date | None:
    request = ExtensionRequest.objects.filter(case=case, status=ExtensionStatus.SUBMITTED).first()
    return (
        _plus_days(_local(request.submitted_at), settings.LOTSE_APPROVAL_DAYS) if request else None
    )


def _resume_due(case: Case) -> date | None:
    paused = _local(case.paused_at)
    return add_months(paused, settings.LOTSE_NO_CONTACT_MONTHS) if paused else None


# --- the flow ----------------------------------------------------------------


class CaseFlow(flow.Flow):
    """Beratungsfall

    The guided steps of one case, from the handover to the closure.
    """

    process_class = CaseProcess
    lock_impl = case_lock
    # The node routes are included under the `workflows` URL namespace.
    parent_namespace = "workflows"
    process_title = _("Guided case work")

    start = StartHandle(this.start_process).Next(this.route)

    route = (
        Switch()
        .Case(this.accept_handover, _needs_acceptance)
        .Case(this.first_consultation, _status_is(CaseStatus.REGISTERED))
        .Case(this.phase, _status_is(*CLOCK_STATES))
        .Case(this.final_referral, _status_is(CaseStatus.CLOSING))
        .Default(this.end)
        .Annotation(title=_("Where is the case?"))
    )

    accept_handover = (
        CaseTask(views.AcceptHandoverView.as_view())
        .Annotation(title=_("Accept the handover"))
        .Permission(WORK)
        .Assign(_owner)
        .Due(lambda case: _plus_days(_local(case.registered_at), settings.LOTSE_ACCEPT_DAYS))
        .Next(this.route)
    )

    first_consultation = (
        CaseTask(views.FirstConsultationView.as_view())
        .Annotation(title=_("First consultation"))
        .Permission(WORK)
        .Assign(_owner)
        .Due(lambda case: _plus_days(_local(case.registered_at), settings.LOTSE_NO_SHOW_DAYS))
        .Next(this.route)
    )

    phase = (
        Split()
        .Always(this.phase_route)
        .Always(this.extension_route)
        .Annotation(title=_("Consultation period"))
    )

    phase_route = (
        Switch()
        .Case(this.needs_assessment, _status_is(CaseStatus.INITIAL_COUNSELLING))
        .Case(this.integration_plan, _status_is(CaseStatus.PLANNING))
        .Case(this.review_timer, _has_agreed_plan)
        .Case(this.resume, _status_is(CaseStatus.DORMANT))
        .Default(this.phase_end)
        .Annotation(title=_("Next step of the period"))
    )

    needs_assessment = (
        CaseTask(views.AssessmentView.as_view())
        .Annotation(title=_("Needs assessment"))
        .Permission(WORK)
        .Assign(_owner)
        .Next(this.phase_route)
    )

    integration_plan = (
        CaseTask(views.PlanView.as_view())
        .Annotation(title=_("Draft and agree the Integrationsplan"))
        .Permission(WORK)
        .Assign(_owner)
        .Next(this.phase_route)
    )

    review_timer = (
        Timer(lambda activation: review_due(case_of(activation)))
        .Annotation(title=_("Until the plan review"))
        .Next(this.review_plan)
    )

    review_plan = (
        CaseTask(views.ReviewView.as_view())
        .Annotation(title=_("Review the Integrationsplan"))
        .Permission(WORK)
        .Assign(_owner)
        .Due(lambda case: case.next_review_at)
        .Next(this.phase_route)
    )

    resume = (
        CaseTask(views.ResumeView.as_view())
        .Annotation(title=_("Resume the dormant case"))
        .Permission(WORK)
        .Assign(_owner)
        .Due(_resume_due)
        .Next(this.phase_route)
    )

    extension_route = (
        Switch()
        .Case(this.approve_extension, _request_waiting)
        .Case(this.extension_timer, _extension_check_open)
        .Default(this.extension_end)
        .Annotation(title=_("Extension?"))
    )

    extension_timer = (
        Timer(lambda activation: extension_check_due(case_of(activation)))
        .Annotation(title=_("Until the extension check"))
        .Next(this.extension_check)
    )

    extension_check = (
        CaseTask(views.ExtensionCheckView.as_view())
        .Annotation(title=_("Check whether to request an extension"))
        .Permission(WORK)
        .Assign(_owner)
        .Due(lambda case: case.regular_end)
        .Next(this.extension_route)
    )

    approve_extension = (
        CaseTask(views.ApproveExtensionView.as_view(), who=SUPERVISOR)
        .Annotation(title=_("Decide the extension request"))
        .Permission(DECIDE)
        .Due(_approval_due)
        .Next(this.extension_route)
    )

    final_referral = (
        CaseTask(views.FinalReferralView.as_view())
        .Annotation(title=_("Final referral and closure"))
        .Permission(WORK)
        .Assign(_owner)
        .Due(lambda case: case.effective_end)
        .Next(this.route)
    )

    phase_end = End().Annotation(title=_("Period step done"))
    extension_end = End().Annotation(title=_("Extension settled"))
    end = End().Annotation(title=_("Closed"))

    def start_process(self, activation: Any, case: Case) -> CaseProcess:
        activation.process.case = case
        return activation.process

    # Lists and details are scoped by workflows.selectors; this floor only
    # keeps roles without case work out of every viewflow view.
    def has_view_permission(self, user: Any, obj: Any = None) -> bool:
        return bool(user.is_authenticated and (user.has_perm(WORK) or user.has_perm(DECIDE)))

    def has_manage_permission(self, user: Any, obj: Any = None) -> bool:
        return False  # no engine-level corrections (undo, revive, cancel)
