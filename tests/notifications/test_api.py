"""GET /api/v1/notifications/, POST .../{id}/read/ and the German inbox page."""

from __future__ import annotations

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from notifications import services
from notifications.models import EmailMode, Notification, NotificationKind, NotificationPreference
from tests.accounts.factories import UserFactory, api_key
from tests.cases.factories import T0, new_case

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def notify(user, key: str, case=None) -> Notification:
    with transaction.atomic():
        (notification,) = services.notification_enqueue(
            recipients=[user], kind=NotificationKind.DEPUTY_TASK, key=key, case=case, now=T0
        )
    return notification


def test_the_list_shows_only_the_callers_notifications_with_the_unread_count() -> None:
    case = new_case()
    user, other = case.owner, UserFactory()
    first, second = notify(user, "a", case), notify(user, "b")
    notify(other, "c")
    services.notification_mark_read(user=user, notification_id=first.pk, now=T0)

    body = api(user).get("/api/v1/notifications/").json()

    assert (body["count"], body["unread_count"]) == (2, 1)
    assert [row["id"] for row in body["results"]] == [second.pk, first.pk]
    row = body["results"][1]
    assert row == {
        "id": first.pk,
        "kind": "deputy_task",
        "text": f"Eine Aufgabe in Fall {case.pk} wartet auf Sie als Vertretung.",
        "case": case.pk,
        "created_at": "2026-01-05T09:00:00+01:00",
        "read_at": "2026-01-05T09:00:00+01:00",
        "url": f"http://127.0.0.1:8000/aufgaben/fall/{case.pk}/",
    }
    unread = api(user).get("/api/v1/notifications/?unread=true").json()
    assert [row["id"] for row in unread["results"]] == [second.pk]


@pytest.mark.parametrize("value", ["", "yes", "1"])
def test_a_bad_unread_filter_is_a_400(value: str) -> None:
    response = api(UserFactory()).get(f"/api/v1/notifications/?unread={value}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_marking_read_is_idempotent_and_foreign_notifications_do_not_exist() -> None:
    user, other = UserFactory(), UserFactory()
    mine, theirs = notify(user, "a"), notify(other, "b")
    client = api(user)

    first = client.post(f"/api/v1/notifications/{mine.pk}/read/")
    again = client.post(f"/api/v1/notifications/{mine.pk}/read/")
    foreign = client.post(f"/api/v1/notifications/{theirs.pk}/read/")
    nonsense = client.post("/api/v1/notifications/+1/read/")

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["read_at"] == again.json()["read_at"]
    assert (foreign.status_code, foreign.json()["code"]) == (404, "not_found")
    assert str(theirs.pk) not in foreign.content.decode()
    assert nonsense.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_api_needs_a_signed_in_user() -> None:
    assert APIClient().get("/api/v1/notifications/").status_code == 401


def test_the_inbox_page_in_german_with_count_in_the_navigation(client) -> None:
    user = UserFactory()
    notification = notify(user, "a")
    client.force_login(user)

    page = client.get("/benachrichtigungen/").content.decode()
    assert "Benachrichtigungen (1)" in page
    assert "1 ungelesene Benachrichtigung" in page

    response = client.post(f"/benachrichtigungen/{notification.pk}/gelesen/")
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "Benachrichtigungen (1)" not in client.get("/").content.decode()


def test_another_users_notification_cannot_be_marked_from_the_page(client) -> None:
    theirs = notify(UserFactory(), "a")
    client.force_login(UserFactory())

    assert client.post(f"/benachrichtigungen/{theirs.pk}/gelesen/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_mail_preference_is_chosen_on_the_page(client) -> None:
    user = UserFactory()
    client.force_login(user)

    bad = client.post("/benachrichtigungen/e-mail/", {"email_mode": "HOURLY"})
    assert bad.status_code == 302
    assert NotificationPreference.objects.filter(user=user).count() == 0
    client.post("/benachrichtigungen/e-mail/", {"email_mode": "DIGEST"})
    assert NotificationPreference.objects.get(user=user).email_mode == EmailMode.DIGEST
    client.post("/benachrichtigungen/alle-gelesen/")
