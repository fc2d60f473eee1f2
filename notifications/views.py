"""The German notification inbox ("Benachrichtigungen") and mail preference."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.types import AuthenticatedHttpRequest
from notifications import services
from notifications.links import screen_notifications
from notifications.models import EmailMode, NotificationPreference
from notifications.selectors import (
    NotificationNotFound,
    notifications_of,
    unread_count,
)

PAGE = 100


@login_required
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = list(notifications_of(user=request.user)[:PAGE])
    preference = NotificationPreference.objects.filter(user=request.user).first()
    return render(
        request,
        "notifications/inbox.html",
        {
            "rows": screen_notifications(user=request.user, notifications=rows, now=timezone.now()),
            "unread": unread_count(user=request.user),
            "email_mode": preference.email_mode if preference else EmailMode.IMMEDIATE,
            "email_modes": EmailMode.choices,
        },
    )


@login_required
@require_POST
def mark_read(request: AuthenticatedHttpRequest, notification_id: str) -> HttpResponse:
    try:
        services.notification_mark_read(
            user=request.user, notification_id=notification_id, now=timezone.now()
        )
    except NotificationNotFound:
        raise Http404 from None
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.notifications_mark_all_read(user=request.user, now=timezone.now())
    return redirect("notifications:inbox")


@login_required
@require_POST
def preference(request: AuthenticatedHttpRequest) -> HttpResponse:
    mode = request.POST.get("email_mode", "")
    if mode not in EmailMode.values:
        messages.error(request, _("Please choose how you want to be mailed."))
        return redirect("notifications:inbox")
    services.preference_set(user=request.user, email_mode=mode, now=timezone.now())
    messages.success(request, _("Your choice is saved."))
    return redirect("notifications:inbox")
