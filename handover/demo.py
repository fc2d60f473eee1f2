"""Synthetic demo handovers for `manage.py seed_demo` (invented data only)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from accounts.models import Gemeinde, User
from handover.models import Handover
from handover.services import handover_create

DEMO_GEMEINDE_AGS = "08999001"  # Musterstadt, served by the demo Landratsamt

DEMO_HANDOVERS: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
    (
        {
            "external_reference": "DEMO-GU-1",
            "consent_given": True,
            "consent_form": "SIGNED_PAPER",
            "consent_language": "ar",
            "consent_interpreter": "Sprachmittlerin vor Ort",
            "known_needs": "Sprachkurs B1, Kita-Platz für den Sohn",
            "open_matters": "Termin bei der Ausländerbehörde steht aus",
            "notes": "Familie ist gut angekommen (Demo).",
            "address": "Lindenweg 4, Wohnung 2",
        },
        [
            {
                "family_name": "Saleh",
                "given_names": "Mariam",
                "date_of_birth": date(1991, 2, 14),
                "sex": "FEMALE",
                "nationality": "SY",
                "languages": "ar, en",
            },
            {
                "family_name": "Saleh",
                "given_names": "Yusuf",
                "date_of_birth": date(2019, 9, 1),
                "sex": "MALE",
                "nationality": "SY",
                "relation": "CHILD",
            },
        ],
    ),
    (
        {
            "external_reference": "DEMO-GU-2",
            "consent_given": True,
            "consent_form": "DOCUMENTED_VERBAL",
            "consent_language": "uk",
            "known_needs": "Anerkennung des Berufsabschlusses (Pflege)",
        },
        [
            {
                "family_name": "Kovalenko",
                "given_names": "Oleksandr",
                "date_of_birth": date(1979, 11, 3),
                "sex": "MALE",
                "nationality": "UA",
                "languages": "uk, ru",
            },
        ],
    ),
    (
        {"external_reference": "DEMO-GU-3", "consent_given": False},
        [{"family_name": "Ahmadi", "given_names": "Farid"}],
    ),
]


def seed_demo_handovers(*, sender: User, now: datetime) -> int:
    """Submit the demo handovers of `sender` once; return how many are new.

    Idempotent through the handovers' `external_reference`.
    """
    gemeinde = Gemeinde.objects.get(ags=DEMO_GEMEINDE_AGS)
    created = 0
    for values, members in DEMO_HANDOVERS:
        data = {
            "gemeinde_ags": gemeinde.ags,
            "au_allocation_date": (now - timedelta(days=10)).date(),
            "consent_given_on": (now - timedelta(days=14)).date(),
            "gu_facility": "GU Musterstadt, Bahnhofstraße (Demo)",
            "gu_contact_name": f"{sender.first_name} {sender.last_name}",
            "gu_contact_email": sender.email,
            **values,
        }
        _handover, new = handover_create(
            actor=sender, now=now, data=data, members=members, source=Handover.Source.FORM
        )
        created += new
    return created
