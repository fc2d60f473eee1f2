#!/usr/bin/env bash
# The demo (`make run`): migrate, seed the demo data, collect the static
# files, then serve Lotse as production does (DEBUG off, whitenoise) with a
# Celery worker (beat embedded) beside the web server. Ctrl-C (or the end of
# either) stops both.
set -euo pipefail
PY=${PY:-.venv/bin/python}
CELERY="$(dirname "$PY")/celery"
# shellcheck source=scripts/demo_env.sh
source "$(dirname "$0")/demo_env.sh"
mkdir -p var/celery

"$PY" manage.py migrate --noinput
"$PY" manage.py seed_demo
"$PY" manage.py verify_workflows --repair
"$PY" manage.py collectstatic --noinput --verbosity 0

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

echo "Lotse: starting Celery worker with beat (broker: ${CELERY_BROKER_URL:-filesystem under var/celery})"
"$CELERY" -A config worker --beat --loglevel=INFO --concurrency=2 \
  --schedule=var/celery/beat-schedule &
pids+=($!)

PORT="${LOTSE_PORT:-8000}"
echo "Lotse: serving http://127.0.0.1:${PORT}/ (Ctrl-C stops web, worker and beat)"
"$PY" manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=($!)

# Whichever ends first ends the session.
wait -n
