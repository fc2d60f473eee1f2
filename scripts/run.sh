#!/usr/bin/env bash
# Serve Lotse with a Celery worker (beat embedded) beside the web server.
# Ctrl-C (or the end of either) stops both.
set -euo pipefail
PY=${PY:-.venv/bin/python}
CELERY="$(dirname "$PY")/celery"
mkdir -p var/celery

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

echo "Lotse: serving http://127.0.0.1:8000/ (Ctrl-C stops web, worker and beat)"
"$PY" manage.py runserver 127.0.0.1:8000 --noreload &
pids+=($!)

# Whichever ends first ends the session.
wait -n
