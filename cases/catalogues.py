"""Loading the catalogues of DOMAIN.md §11 (used by the data migration)."""

from __future__ import annotations

from typing import Any

from cases.catalogue_data import CATALOGUE_VERSION, CATALOGUES


def catalogues_load(*, entry_model: Any) -> int:
    """Create the catalogue entries that do not exist yet; return how many.

    Takes the model class so that a migration can pass its historical
    model. Existing rows are left alone: edits made in the admin survive.
    """
    created = 0
    for catalogue, entries in CATALOGUES.items():
        for order, entry in enumerate(entries, start=1):
            _, was_created = entry_model.objects.get_or_create(
                catalogue=catalogue,
                key=entry["key"],
                defaults={
                    "label_de": entry["label_de"],
                    "label_en": entry["label_en"],
                    "order": order,
                    "is_active": entry["active"],
                    "official_mapping": entry["official_mapping"],
                    "report_group": entry["report_group"],
                    "version": CATALOGUE_VERSION,
                },
            )
            created += was_created
    return created
