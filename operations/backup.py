"""Consistent backups of a Lotse installation, and their restore.

A backup is one folder:

    database.dump   pg_dump, custom format, of one snapshot of the database
    media.tar.gz    the uploaded files (MEDIA_ROOT; see below for S3)
    manifest.json   what the snapshot held: every table's row count, the head
                    of every audit chain, the applied migrations, checksums
                    of both files, and the key material to keep (names only)

The database dump, the counts and the audit chain heads come from the same
snapshot (REPEATABLE READ, exported to pg_dump with `--snapshot`), so the
manifest describes exactly what the dump holds. The media files are copied
after the snapshot: every file a dumped row names is there, unless the
retention sweep erased it in between (which a restore must not bring back
anyway). With S3 storage (LOTSE_S3_BUCKET) the bucket is not copied: keep
it with the store's own versioning or replication.

Restoring goes into an empty database (`manage.py restore`), then checks
the audit chains against the heads kept in the manifest and every table's
row count against the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from audit.selectors import audit_chain_verify

MANIFEST_VERSION = 1

# What must be kept apart from the backup (never inside it): without it the
# restored installation loses what these protect.
KEY_MATERIAL = [
    {
        "name": "SECRET_KEY",
        "why": "keys the audit digests of names and free text (HMAC) and the "
        "lockout log digests; a restore with another key cannot verify older "
        "digests; also signs sessions and password-reset links",
    },
    {
        "name": "audit chain heads (manifest.json: audit_heads)",
        "why": "kept outside the database, they show whether events were cut "
        "off the end of a chain (manage.py verify_audit --head CHAIN=HASH)",
    },
    {
        "name": "LOTSE_OWNER_DB_PASSWORD / LOTSE_APP_DB_PASSWORD (or the DATABASE_URL passwords)",
        "why": "the database roles; the application role is recreated with "
        "manage.py db_roles after a restore",
    },
    {"name": "OIDC_RP_CLIENT_SECRET", "why": "sign-in through the OIDC provider"},
    {"name": "LOTSE_LDAP_BIND_PASSWORD", "why": "sign-in through LDAP / Active Directory"},
    {
        "name": "LOTSE_S3_ACCESS_KEY / LOTSE_S3_SECRET_KEY",
        "why": "the uploaded files when they live in an S3 bucket",
    },
    {"name": "EMAIL_HOST_PASSWORD", "why": "outgoing mail"},
    {"name": "SENTRY_DSN", "why": "error reporting, if used"},
    {
        "name": "the users' authenticator apps and backup codes",
        "why": "the TOTP secrets are in the database: a restore keeps every second factor working",
    },
]


class BackupError(Exception):
    """A backup or restore cannot go on; the message says why."""


@dataclass(frozen=True)
class RestoreReport:
    tables: int
    rows: int
    count_mismatches: dict[str, tuple[int, int]]
    broken_chains: list[str]
    media_files: int

    @property
    def ok(self) -> bool:
        return not self.count_mismatches and not self.broken_chains


def _database() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise BackupError("Backups need PostgreSQL (DATABASE_URL=postgresql://...).")
    return db


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PGHOST": str(db.get("HOST") or ""),
            "PGPORT": str(db.get("PORT") or "5432"),
            "PGUSER": str(db.get("USER") or ""),
            "PGDATABASE": str(db["NAME"]),
        }
    )
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _program(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is missing: install the Debian package postgresql-client.")
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _table_counts(cursor: Any) -> dict[str, int]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - catalogue names
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _audit_heads(cursor: Any) -> dict[str, str]:
    cursor.execute(
        "SELECT DISTINCT ON (chain_key) chain_key, hash FROM audit_auditevent "
        "ORDER BY chain_key, seq DESC"
    )
    return {chain: head for chain, head in cursor.fetchall()}


def _migrations(cursor: Any) -> dict[str, str]:
    cursor.execute(
        "SELECT DISTINCT ON (app) app, name FROM django_migrations ORDER BY app, id DESC"
    )
    return dict(cursor.fetchall())


def _media_root() -> Path | None:
    storages: Any = settings.STORAGES
    backend = storages["default"]["BACKEND"]
    if backend != "django.core.files.storage.FileSystemStorage":
        return None
    return Path(settings.MEDIA_ROOT)


def backup_create(*, target: Path, now: datetime) -> Path:
    """Write one consistent backup folder under `target`; return it."""
    db = _database()
    pg_dump = _program("pg_dump")
    folder = target / f"lotse-{now:%Y%m%dT%H%M%S%z}"
    folder.mkdir(parents=True, exist_ok=False)
    folder.chmod(0o700)
    dump = folder / "database.dump"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        result = subprocess.run(  # noqa: S603 - fixed argv
            [
                pg_dump,
                "--format=custom",
                "--compress=6",
                f"--snapshot={snapshot}",
                f"--file={dump}",
            ],
            env=_pg_env(db),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        counts = _table_counts(cursor)
        heads = _audit_heads(cursor)
        migrations = _migrations(cursor)
    manifest: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "created_at": now.isoformat(),
        "database": {"file": dump.name, "sha256": _sha256(dump), "format": "pg_dump custom"},
        "tables": counts,
        "audit_heads": heads,
        "migrations": migrations,
        "key_material": KEY_MATERIAL,
    }
    media_root = _media_root()
    if media_root is None:
        manifest["media"] = {
            "file": None,
            "note": "uploads live in S3 storage; keep them with the bucket's versioning",
        }
    else:
        archive = folder / "media.tar.gz"
        files = 0
        with tarfile.open(archive, "w:gz") as tar:
            if media_root.is_dir():
                for path in sorted(media_root.rglob("*")):
                    if path.is_file():
                        tar.add(path, arcname=str(path.relative_to(media_root)))
                        files += 1
        manifest["media"] = {"file": archive.name, "sha256": _sha256(archive), "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    for path in folder.iterdir():
        path.chmod(0o600)
    return folder


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} holds no readable manifest.json ({exc}).") from None
    if manifest.get("version") != MANIFEST_VERSION:
        raise BackupError("The backup's manifest has an unknown version.")
    dump = folder / manifest["database"]["file"]
    if _sha256(dump) != manifest["database"]["sha256"]:
        raise BackupError("database.dump does not match its checksum: the backup is damaged.")
    media = manifest.get("media") or {}
    if media.get("file") and _sha256(folder / media["file"]) != media["sha256"]:
        raise BackupError("media.tar.gz does not match its checksum: the backup is damaged.")
    return manifest


def backup_restore(*, folder: Path) -> RestoreReport:
    """Restore `folder` into the (empty) database of DATABASE_URL and the
    MEDIA_ROOT, then check the audit chains and the row counts."""
    db = _database()
    pg_restore = _program("pg_restore")
    manifest = _read_manifest(folder)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        if cursor.fetchone()[0]:
            raise BackupError(
                f"The database {db['NAME']} is not empty; restore into a new, empty database."
            )
    connection.close()
    result = subprocess.run(  # noqa: S603 - fixed argv
        [
            pg_restore,
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={db['NAME']}",
            str(folder / manifest["database"]["file"]),
        ],
        env=_pg_env(db),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")

    media_files = 0
    media = manifest.get("media") or {}
    media_root = _media_root()
    if media.get("file") and media_root is not None:
        media_root.mkdir(parents=True, exist_ok=True)
        if any(media_root.iterdir()):
            raise BackupError(f"MEDIA_ROOT {media_root} is not empty; restore into an empty one.")
        with tarfile.open(folder / media["file"], "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile()]
            tar.extractall(media_root, members=members, filter="data")
            media_files = len(members)

    with connection.cursor() as cursor:
        counts = _table_counts(cursor)
    expected = manifest["tables"]
    mismatches = {
        table: (expected.get(table, -1), counts.get(table, -1))
        for table in sorted(set(expected) | set(counts))
        if expected.get(table) != counts.get(table)
    }
    broken = audit_chain_verify(heads=manifest["audit_heads"])
    return RestoreReport(
        tables=len(counts),
        rows=sum(counts.values()),
        count_mismatches=mismatches,
        broken_chains=[f"{b.chain_key} #{b.seq}: {b.problem}" for b in broken],
        media_files=media_files,
    )
