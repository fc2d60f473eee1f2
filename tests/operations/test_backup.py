"""The restore drill: back up a seeded database, restore it into a new one,
`verify_audit` passes and every table's row count matches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import psycopg.sql
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection

from tests.cases.factories import ensure_catalogues
from tests.services import require_program

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _conninfo(dbname: str = "postgres") -> str:
    db = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=dbname,
    )


def _manage(*args: str, database: str, media_root: Path) -> subprocess.CompletedProcess[str]:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "true",
            "SECRET_KEY": "test-only-not-secret",  # the key the test database was written with
            "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{database}",
            "MEDIA_ROOT": str(media_root),
            "CELERY_BROKER_URL": "memory://",
        }
    )
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def new_database():
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_conninfo(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(_conninfo(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_restore_drill(tmp_path, settings, new_database) -> None:
    require_program("pg_dump", package="postgresql-client")
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_catalogues()  # a transactional test before may have flushed them
    call_command("seed_demo", verbosity=0)
    stored = default_storage.save("documents/einwilligung.pdf", ContentFile(b"%PDF-1.4 synthetic"))

    call_command("backup", "--to", str(tmp_path / "backups"), verbosity=0)
    [folder] = list((tmp_path / "backups").iterdir())
    assert sorted(p.name for p in folder.iterdir()) == [
        "database.dump",
        "manifest.json",
        "media.tar.gz",
    ]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["cases_case"] > 0
    assert manifest["tables"]["audit_auditevent"] > 0
    assert len(manifest["audit_heads"]) > 1
    assert manifest["media"]["files"] == 1
    assert "SECRET_KEY" in {item["name"] for item in manifest["key_material"]}
    assert "test-only-not-secret" not in (folder / "manifest.json").read_text()

    restored_media = tmp_path / "restored-media"
    restore = _manage("restore", str(folder), database=new_database, media_root=restored_media)
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "all audit chains intact, all counts match" in restore.stdout

    verify = _manage("verify_audit", database=new_database, media_root=restored_media)
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.strip() == "All audit chains intact."
    # The counts, table by table, read independently of the command.
    with psycopg.connect(_conninfo(new_database)) as c:
        for table, count in manifest["tables"].items():
            query = psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(table))
            assert c.execute(query).fetchone()[0] == count, table
    assert (restored_media / stored).read_bytes() == b"%PDF-1.4 synthetic"

    # A second restore into the now filled database is refused.
    again = _manage("restore", str(folder), database=new_database, media_root=tmp_path / "x")
    assert again.returncode == 1
    assert "is not empty" in again.stderr


def test_a_damaged_backup_is_refused(tmp_path, settings, new_database) -> None:
    require_program("pg_dump", package="postgresql-client")
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("backup", "--to", str(tmp_path / "backups"), verbosity=0)
    [folder] = list((tmp_path / "backups").iterdir())
    with (folder / "database.dump").open("ab") as dump:
        dump.write(b"x")
    restore = _manage("restore", str(folder), database=new_database, media_root=tmp_path / "m")
    assert restore.returncode == 1
    assert "does not match its checksum" in restore.stderr
