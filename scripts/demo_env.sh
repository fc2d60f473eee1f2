# Environment of the local demo (`make run`), sourced by scripts/run.sh.
#
# The demo runs as production does (DEBUG off, static files through
# whitenoise, the error pages a user would see), with the few values a
# laptop without TLS needs set here explicitly, never by weakening the
# defaults in config/settings.py. Every value can be overridden from the
# environment (e.g. `DEBUG=true make run` while developing).

: "${LOTSE_VAR_DIR:=var}"
mkdir -p "$LOTSE_VAR_DIR"

export DEBUG="${DEBUG:-false}"
# A random key kept per checkout, so that sessions survive a restart and no
# key is ever committed.
if [ -z "${SECRET_KEY:-}" ]; then
  key_file="$LOTSE_VAR_DIR/demo-secret-key"
  if [ ! -s "$key_file" ]; then
    (umask 077 && "${PY:-.venv/bin/python}" -c "import secrets; print(secrets.token_urlsafe(60))" >"$key_file")
  fi
  SECRET_KEY="$(cat "$key_file")"
fi
export SECRET_KEY
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
# Plain http on 127.0.0.1: no redirect to https, cookies without the Secure
# flag (a browser would not send them back over http), no HSTS.
export SECURE_SSL_REDIRECT="${SECURE_SSL_REDIRECT:-false}"
export SESSION_COOKIE_SECURE="${SESSION_COOKIE_SECURE:-false}"
export CSRF_COOKIE_SECURE="${CSRF_COOKIE_SECURE:-false}"
export SECURE_HSTS_SECONDS="${SECURE_HSTS_SECONDS:-0}"
export SECURE_HSTS_INCLUDE_SUBDOMAINS="${SECURE_HSTS_INCLUDE_SUBDOMAINS:-false}"
export SECURE_HSTS_PRELOAD="${SECURE_HSTS_PRELOAD:-false}"
# The demo's two-factor switch: off unless LOTSE_REQUIRE_MFA=true (a banner
# on every page says so).
export LOTSE_REQUIRE_MFA="${LOTSE_REQUIRE_MFA:-false}"
