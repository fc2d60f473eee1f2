"""The goal catalogue's first entries, per field of action (used by the
migration that creates the catalogue; edited in the admin afterwards).

The first five are the most frequent goals the Land's sheet lists (Landkreis
Biberach, Kennzahlen 2023: Erwerbstätigkeit Vollzeit, Sprachzertifikat B1,
Sicherung der finanziellen Situation, Sprachzertifikat A1, eigene Wohnung);
the others are their neighbours in the same fields of action, so that the
usual goals of a plan can be picked rather than typed.
"""

from __future__ import annotations

from typing import Any

# (field of action key, goal key, German label, English label)
GOALS: tuple[tuple[str, str, str, str], ...] = (
    ("work", "employment_full_time", "Erwerbstätigkeit Vollzeit", "Full-time employment"),
    ("language", "language_certificate_b1", "Sprachzertifikat B1", "Language certificate B1"),
    (
        "financial_independence",
        "securing_finances",
        "Sicherung der finanziellen Situation, Antragstellungen, Weitergewährungsanträge",
        "Securing the financial situation, applications, renewals",
    ),
    ("language", "language_certificate_a1", "Sprachzertifikat A1", "Language certificate A1"),
    ("housing", "own_flat", "eigene Wohnung", "Own flat"),
    ("language", "language_certificate_a2", "Sprachzertifikat A2", "Language certificate A2"),
    ("language", "language_certificate_b2", "Sprachzertifikat B2", "Language certificate B2"),
    ("work", "employment_part_time", "Erwerbstätigkeit Teilzeit", "Part-time employment"),
    (
        "vocational_training_study",
        "apprenticeship",
        "Ausbildungsplatz",
        "Apprenticeship place",
    ),
    (
        "further_qualification",
        "recognition_of_qualification",
        "Anerkennung des ausländischen Abschlusses",
        "Recognition of the foreign qualification",
    ),
    ("children_family", "childcare_place", "Kita-Platz für das Kind", "Childcare place"),
    (
        "residence_status",
        "residence_secured",
        "Aufenthaltstitel gesichert",
        "Residence permit secured",
    ),
    ("health", "family_doctor", "Hausärztliche Versorgung", "A family doctor"),
)


def goal_catalogue_load(*, goal_model: Any, entry_model: Any) -> int:
    """Create the goals that do not exist yet (by key); return how many.

    Takes the model classes so that a migration can pass its historical
    models; goals whose field of action is missing are skipped. Existing
    rows are left alone: edits made in the admin survive.
    """
    fields = {entry.key: entry for entry in entry_model.objects.filter(catalogue="FIELD_OF_ACTION")}
    created = 0
    for order, (field, key, label_de, label_en) in enumerate(GOALS, start=1):
        if field not in fields:
            continue
        _, was_created = goal_model.objects.get_or_create(
            key=key,
            defaults={
                "field_of_action": fields[field],
                "label_de": label_de,
                "label_en": label_en,
                "order": order,
            },
        )
        created += was_created
    return created
