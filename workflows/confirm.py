"""A second step before an action that cannot be undone.

The first submit of such a form, once valid, answers a confirmation page
that says what will happen and sends the same values again with
`confirmed=1`; only that second submit acts. No script is needed (the
site's content security policy allows none inline), and a file-less form
loses nothing on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Confirmation:
    title: Promise
    consequence: Promise
    button: Promise


CONFIRMATIONS = {
    # the handover task: "Nicht aufnehmen"
    "reject": Confirmation(
        _("Really not admit the case?"),
        _(
            "The case is rejected and closed for good: it cannot be reopened, its tasks "
            "end, and it moves to the archive, where only the retention period is kept. "
            "The refugee social work is not asked again."
        ),
        _("Yes, do not admit"),
    ),
    # the final referral task
    "close": Confirmation(
        _("Really close the case?"),
        _(
            "The case is closed with the final referral. Its open tasks end; the case can "
            "only be reopened within its consultation period, with a new consultation."
        ),
        _("Yes, close the case"),
    ),
    # the first-consultation task of a person whose period is over
    "final_talk": Confirmation(
        _("Really record the talk and close the case?"),
        _(
            "The talk is recorded as the talk for the final referral, and the case is closed "
            "with the reason “consultation period expired”. Its open tasks end; as the "
            "person's consultation period is over, the case cannot be reopened and moves to "
            "the archive at once."
        ),
        _("Yes, record the talk and close the case"),
    ),
    # case actions outside the guided tasks
    "withdraw_consent": Confirmation(
        _("Really record the withdrawal of the consent?"),
        _(
            "Processing of the case data stops at once: the case is closed, its open "
            "tasks end, and the withdrawal cannot be taken back (a new consent needs a "
            "new case). The withdrawal is recorded with the date and the channel you chose. "
            "As the consent was the only legal basis, the case's personal data are erased "
            "right away (unless the data protection officer set a legal hold); what proof "
            "and statistics need stays."
        ),
        _("Yes, record the withdrawal"),
    ),
    "start_closing": Confirmation(
        _("Really start closing the case?"),
        _(
            "The case moves to closing: the plan is no longer worked on, and the final "
            "referral becomes the next task. Going back needs a new consultation."
        ),
        _("Yes, start closing"),
    ),
}


def needs_confirmation(request: HttpRequest, action: str) -> bool:
    """Tell whether `action` waits for its second submit."""
    return action in CONFIRMATIONS and request.POST.get(CONFIRMED) != "1"


def confirmation_page(request: HttpRequest, *, action: str, back_url: str) -> HttpResponse:
    """Return the page that asks to confirm `action` with the same values."""
    carried: list[tuple[str, Any]] = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in {"csrfmiddlewaretoken", CONFIRMED}
        for value in values
    ]
    return render(
        request,
        "workflows/confirm.html",
        {
            "confirmation": CONFIRMATIONS[action],
            "action_url": request.get_full_path(),
            "carried": carried,
            "back_url": back_url,
        },
    )
