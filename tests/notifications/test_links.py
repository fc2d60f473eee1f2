"""Notifications on screen link only to what the reader can still open."""

from __future__ import annotations

import pytest
from django.test import Client

from handover import services as handover_services
from handover.models import Handover
from notifications.links import GONE_HANDOVER, screen_notifications
from notifications.models import Notification
from tests.cases.factories import T0
from tests.handover.factories import submitted, world

pytestmark = pytest.mark.django_db


def _handover_notice(user, handover) -> Notification:
    return Notification.objects.get(recipient=user, params__handover=handover.pk)


def test_a_handover_a_colleague_accepted_shows_without_a_link_and_says_why() -> None:
    w = world()
    handover = submitted(w)
    handover_services.handover_accept(handover=handover, actor=w.colleague, now=T0)
    mine = _handover_notice(w.manager, handover)
    theirs = _handover_notice(w.colleague, handover)

    [gone] = screen_notifications(user=w.manager, notifications=[mine], now=T0)
    [kept] = screen_notifications(user=w.colleague, notifications=[theirs], now=T0)

    assert (gone.link, gone.note) == ("", str(GONE_HANDOVER))
    assert (kept.link, kept.note) == (f"/uebergaben/{handover.pk}/", "")
    web = Client()
    web.force_login(w.colleague)
    assert web.get(kept.link).status_code == 200


def test_the_inbox_page_links_a_case_notice_to_the_case_and_no_link_404s() -> None:
    w = world()
    handover = submitted(w)
    handover_services.handover_accept(handover=handover, actor=w.colleague, now=T0)
    case = Handover.objects.get(pk=handover.pk).case
    Notification.objects.create(
        recipient=w.colleague,
        kind=Notification.objects.first().kind,
        key="x",
        case=case,
        created_at=T0,
    )
    web = Client()
    web.force_login(w.manager)
    colleague = Client()
    colleague.force_login(w.colleague)

    manager_page = web.get("/benachrichtigungen/").content.decode()
    colleague_page = colleague.get("/benachrichtigungen/").content.decode()

    assert f'href="/uebergaben/{handover.pk}/"' not in manager_page
    assert "Die Übergabe steht Ihnen nicht mehr offen" in manager_page
    assert f'href="/faelle/{case.pk}/"' in colleague_page
    assert colleague.get(f"/faelle/{case.pk}/").status_code == 200
