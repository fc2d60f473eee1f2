"""Synthetic demo organisation and users for `manage.py seed_demo`.

Everything here is invented; the password is for demos only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import Gemeinde, Kreis, Role, Team, Traeger, User

DEMO_PASSWORD = "lotse-demo-2026"  # noqa: S105 - documented demo-only password


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    traeger: str | None
    team: str | None
    kreis: bool = False  # the coordinating office of the demo Kreis


KREIS = ("Landkreis Musterkreis", "08999000")
GEMEINDEN = [
    ("Musterstadt", "08999001"),
    ("Beispielheim", "08999002"),
    ("Probingen", "08999003"),
]
TRAEGER = [
    (
        "Landratsamt Musterkreis – Integrationsmanagement",
        Traeger.Kind.DISTRICT,
        Traeger.DataProtectionRegime.DSGVO_LDSG_BW,
        ["08999001", "08999002"],
    ),
    (
        "Sozialwerk Musterkreis e. V.",
        Traeger.Kind.FREE_WELFARE,
        Traeger.DataProtectionRegime.DSGVO_BDSG,
        ["08999003"],
    ),
]
TEAMS = [
    ("Team Nord", "Landratsamt Musterkreis – Integrationsmanagement"),
    ("Team Süd", "Landratsamt Musterkreis – Integrationsmanagement"),
    ("Team Mitte", "Sozialwerk Musterkreis e. V."),
]
LRA = TRAEGER[0][0]
USERS = [
    DemoUser("manager", "Miriam", "Demo", Role.INTEGRATION_MANAGER, LRA, "Team Nord"),
    DemoUser("manager2", "Malik", "Demo", Role.INTEGRATION_MANAGER, LRA, "Team Süd"),
    DemoUser("supervisor", "Sabine", "Demo", Role.SUPERVISOR, LRA, "Team Nord"),
    DemoUser("auditor", "Anton", "Demo", Role.AUDITOR, LRA, None),
    DemoUser("gu", "Gül", "Demo", Role.GU_SOCIAL_WORKER, LRA, None),
    DemoUser("dpo", "Dora", "Demo", Role.DATA_PROTECTION_OFFICER, LRA, None),
    DemoUser("admin", "Adam", "Demo", Role.ADMINISTRATOR, None, None),
    DemoUser("coordinator", "Konstanze", "Demo", Role.COORDINATOR, None, None, kreis=True),
]


@transaction.atomic
def seed_organisation() -> dict[str, User]:
    """Create the demo Kreis, Gemeinden, Träger, teams and users once.

    Running it again changes nothing: existing rows are found by their
    natural keys and left as they are (passwords included).
    """
    kreis, _ = Kreis.objects.get_or_create(ags=KREIS[1], defaults={"name": KREIS[0]})
    gemeinden = {
        ags: Gemeinde.objects.get_or_create(ags=ags, defaults={"name": name, "kreis": kreis})[0]
        for name, ags in GEMEINDEN
    }
    traeger = {}
    for name, kind, regime, served in TRAEGER:
        obj, _ = Traeger.objects.get_or_create(
            name=name, defaults={"kind": kind, "data_protection_regime": regime, "kreis": kreis}
        )
        obj.gemeinden.add(*(gemeinden[ags] for ags in served))
        traeger[name] = obj
    teams = {
        name: Team.objects.get_or_create(name=name, traeger=traeger[owner])[0]
        for name, owner in TEAMS
    }
    users = {}
    for spec in USERS:
        user = User.objects.filter(username=spec.username).order_by("pk").first()
        if user is None:
            user = User(
                username=spec.username,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=f"{spec.username}@demo.invalid",
                role=spec.role,
                traeger=traeger[spec.traeger] if spec.traeger else None,
                team=teams[spec.team] if spec.team else None,
                kreis=kreis if spec.kreis else None,
                is_staff=spec.role == Role.ADMINISTRATOR,
                is_superuser=spec.role == Role.ADMINISTRATOR,
            )
            user.set_password(DEMO_PASSWORD)
            user.full_clean()
            user.save()
        users[spec.username] = user
    return users
