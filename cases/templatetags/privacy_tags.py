"""Template helpers of the consent and plan-agreement links (issue 18)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template
from django.utils import timezone

from cases.models import Case, Consent, IntegrationPlan
from cases.services.base import _active_consent
from cases.services.extensions import ART9_REASONS
from cases.services.plans import plan_change_pending

register = template.Library()


@register.simple_tag
def plan_waits_for_agreement(case: Case, plans: Sequence[IntegrationPlan] | None = None) -> bool:
    """A change of the agreed plan, or a plan after a decline, is pending
    (`plans`: every plan of the case, if the page has them loaded)."""
    if plans is not None:
        statuses = {plan.status for plan in plans}
        return IntegrationPlan.Status.REVISION in statuses or (
            case.plan_declined and IntegrationPlan.Status.DRAFT in statuses
        )
    return plan_change_pending(case) is not None or (
        case.plan_declined and case.plans.filter(status="DRAFT").exists()
    )


@register.simple_tag
def art9_consent_active(case: Case) -> bool:
    return _active_consent(case, Consent.Scope.SPECIAL_CATEGORIES_ART9, timezone.now())


@register.simple_tag
def art9_reasons() -> Any:
    return ART9_REASONS
