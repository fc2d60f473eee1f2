"""The production role layout: the application role cannot rewrite the audit trail."""

# ruff: noqa: S608 - table names come from AUDIT_TABLES, not from input

from __future__ import annotations

import uuid
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audit.db_roles import AUDIT_TABLES
from audit.models import AuditEvent, ReadAccess
from cases.models import Case
from tests.cases.factories import new_case

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _refused(sql: str) -> bool:
    """Run `sql` as the current role in a savepoint; True if PostgreSQL refused it."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except Exception as exc:  # noqa: BLE001 - checked below
        cause = exc.__cause__ or exc
        assert isinstance(cause, psycopg.errors.InsufficientPrivilege), repr(cause)
        return True
    return False


@pytest.fixture
def app_role() -> str:
    """An application role set up by `manage.py db_roles` (rolled back with the test)."""
    name = f"lotse_app_{uuid.uuid4().hex[:8]}"
    out = StringIO()
    call_command("db_roles", "--app-role", name, stdout=out)
    assert "INSERT and SELECT only on the audit tables" in out.getvalue()
    return name


def test_application_role_cannot_update_delete_truncate_or_unprotect_the_audit_tables(
    app_role: str,
) -> None:
    case = new_case()
    events_before = AuditEvent.objects.count()
    reads_before = ReadAccess.objects.count()
    assert events_before > 0
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{app_role}"')
    try:
        attempts = []
        for table in AUDIT_TABLES:
            attempts += [
                f"UPDATE {table} SET id = id",
                f"DELETE FROM {table}",
                f"TRUNCATE {table}",
                f"TRUNCATE {table} CASCADE",
                f"ALTER TABLE {table} DISABLE TRIGGER ALL",
                f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_update_delete",
                f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_truncate",
                f"DROP TRIGGER {table}_no_update_delete ON {table}",
                f"DROP TABLE {table}",
                f"ALTER TABLE {table} OWNER TO CURRENT_USER",
            ]
        attempts += [
            "SET session_replication_role = replica",
            "DROP FUNCTION lotse_audit_append_only()",
            "CREATE OR REPLACE FUNCTION lotse_audit_append_only() RETURNS trigger "
            "AS $$ BEGIN RETURN NULL; END; $$ LANGUAGE plpgsql",
        ]
        accepted = [sql for sql in attempts if not _refused(sql)]
        # A GRANT by a non-owner only warns "no privileges were granted".
        with connection.cursor() as cursor:
            for table in AUDIT_TABLES:
                cursor.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON {table} TO CURRENT_USER")
                cursor.execute(
                    "SELECT has_table_privilege(current_user, %s, 'UPDATE'), "
                    "has_table_privilege(current_user, %s, 'DELETE'), "
                    "has_table_privilege(current_user, %s, 'TRUNCATE'), "
                    "has_table_privilege(current_user, %s, 'TRIGGER')",
                    [table] * 4,
                )
                assert cursor.fetchone() == (False, False, False, False), table

        # What the application needs still works: append and read the trail,
        # ordinary DML elsewhere.
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM audit_auditevent")
            assert cursor.fetchone()[0] == events_before
            cursor.execute(
                "INSERT INTO audit_readaccess (user_id, user_role, case_id, view, accessed_at) "
                "SELECT owner_id, 'INTEGRATION_MANAGER', id, 'test', now() "
                "FROM cases_case WHERE id = %s",
                [case.pk],
            )
            cursor.execute("UPDATE cases_case SET id = id WHERE id = %s", [case.pk])
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == app_role
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")

    assert accepted == []
    assert AuditEvent.objects.count() == events_before
    assert ReadAccess.objects.count() == reads_before + 1
    assert Case.objects.filter(pk=case.pk).exists()


def test_db_roles_refuses_a_layout_that_would_not_protect(app_role: str) -> None:
    from django.core.management.base import CommandError

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    with pytest.raises(CommandError, match=r"is a superuser|is the owner role itself"):
        call_command("db_roles", "--app-role", owner)


def test_db_roles_prints_the_sql_for_review() -> None:
    out = StringIO()

    call_command(
        "db_roles", "--app-role", "lotse_app", "--owner", "lotse_owner", "--print", stdout=out
    )

    text = out.getvalue()
    assert 'GRANT SELECT, INSERT ON TABLE "audit_auditevent" TO "lotse_app";' in text
    assert 'GRANT SELECT, INSERT ON TABLE "audit_readaccess" TO "lotse_app";' in text
    assert 'REVOKE ALL ON TABLE "audit_auditevent" FROM "lotse_app";' in text
    assert 'ALTER DEFAULT PRIVILEGES FOR ROLE "lotse_owner"' in text
