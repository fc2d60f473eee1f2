"""Factories for the organisation and users (synthetic data only)."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import DeputyGrant, Gemeinde, Kreis, Role, Team, Traeger, User


class KreisFactory(DjangoModelFactory):
    class Meta:
        model = Kreis
        django_get_or_create = ("ags",)

    name = factory.Sequence(lambda n: f"Testkreis {n}")
    ags = factory.Sequence(lambda n: f"{8000000 + n:08d}")


class GemeindeFactory(DjangoModelFactory):
    class Meta:
        model = Gemeinde

    name = factory.Sequence(lambda n: f"Testgemeinde {n}")
    ags = factory.Sequence(lambda n: f"{9000000 + n:08d}")
    kreis = factory.SubFactory(KreisFactory)


class TraegerFactory(DjangoModelFactory):
    class Meta:
        model = Traeger

    name = factory.Sequence(lambda n: f"Träger {n}")
    kind = Traeger.Kind.DISTRICT
    data_protection_regime = Traeger.DataProtectionRegime.DSGVO_LDSG_BW
    kreis = factory.SubFactory(KreisFactory)


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    traeger = factory.SubFactory(TraegerFactory)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    class Params:
        # The coordinating office has a Kreis and neither team nor Träger.
        coordinator = factory.LazyAttribute(lambda o: o.role == Role.COORDINATOR)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    role = Role.INTEGRATION_MANAGER
    team = factory.Maybe("coordinator", None, factory.SubFactory(TeamFactory))
    traeger = factory.LazyAttribute(lambda o: o.team.traeger if o.team else None)
    kreis = factory.Maybe("coordinator", factory.SubFactory(KreisFactory), None)
    password = factory.PostGenerationMethodCall("set_password", "pw-test-123")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class DeputyGrantFactory(DjangoModelFactory):
    class Meta:
        model = DeputyGrant

    principal = factory.SubFactory(UserFactory)
    deputy = factory.SubFactory(UserFactory)
    granted_by = factory.SubFactory(UserFactory, role=Role.SUPERVISOR)
    reason = "Urlaub"


def api_key(user: User) -> str:
    """A valid API token key for `user` (as if issued with the second factor)."""
    from django.utils import timezone

    from accounts.tokens import api_token_create

    return api_token_create(user=user, mfa_verified=True, now=timezone.now())[1]
