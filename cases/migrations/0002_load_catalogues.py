"""Load the catalogues of DOMAIN.md §11 (version 1).

Existing rows are left alone, so edits made in the admin survive a re-run.
"""

from django.db import migrations


def load(apps, schema_editor):
    from cases.catalogue_data import CATALOGUE_VERSION, CATALOGUES

    entry_model = apps.get_model("cases", "CatalogueEntry")
    for catalogue, entries in CATALOGUES.items():
        for order, entry in enumerate(entries, start=1):
            entry_model.objects.get_or_create(
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


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
