#!/bin/sh
# First start of the database container only: create the role the
# application runs as (no tables of its own; `manage.py db_roles`, run by the
# migrate service, grants it what it may do).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$LOTSE_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE lotse_app LOGIN PASSWORD :'app_password';
SQL
