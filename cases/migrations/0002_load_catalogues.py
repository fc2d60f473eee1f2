"""Load the catalogues of DOMAIN.md §11 (version 1).

Existing rows are left alone, so edits made in the admin survive a re-run.
"""

from django.db import migrations


def load(apps, schema_editor):
    from cases.catalogues import catalogues_load

    catalogues_load(entry_model=apps.get_model("cases", "CatalogueEntry"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
