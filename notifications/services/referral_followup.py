"""The follow-up of referrals (issue 20): a referral whose outcome is still
open `LOTSE_REFERRAL_FOLLOWUP_DAYS` days after it was made reminds the
case's integration manager, once per referral. The reminder's link opens
the referral's outcome form, so the outcome is recorded in one step.

Rows for `reminders_run` (recipient, kind, key, case, params): ids and
dates only, never client text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from cases.models import OPEN_STATES, Referral
from notifications.models import NotificationKind


def referral_followup_rows(
    *, now: datetime
) -> Iterator[tuple[int, str, str, int | None, dict[str, Any]]]:
    """The reminders of referrals still pending after the follow-up period."""
    latest = timezone.localdate(now) - timedelta(days=settings.LOTSE_REFERRAL_FOLLOWUP_DAYS)
    pending = Referral.objects.filter(
        outcome=Referral.Outcome.PENDING,
        cancelled_at__isnull=True,
        referred_on__lte=latest,
        case__status__in=OPEN_STATES,
    ).values_list("pk", "case_id", "case__owner_id", "referred_on")
    for referral_id, case_id, owner_id, referred_on in pending.order_by("pk"):
        params = {"referral": referral_id, "date": referred_on.isoformat()}
        key = f"referral_pending:{referral_id}"
        yield owner_id, NotificationKind.REFERRAL_PENDING, key, case_id, params
