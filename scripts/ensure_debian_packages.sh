#!/usr/bin/env bash
# Make sure the Debian packages Lotse's install and tests need are there:
#   libldap2-dev libsasl2-dev  to build python-ldap (django-auth-ldap), with gcc
#   slapd ldap-utils           the test directory the LDAP sign-in test starts
#                              as a user process on a free port (never the
#                              system service: it is not started)
#   redis-server               the shared cache and broker of `make prod-check`
#   postgresql-client          pg_dump / pg_restore for backups
# Usage: ensure_debian_packages.sh [build|test]  (build: only what pip needs)
# As root apt-get runs directly, otherwise through sudo without a prompt. In
# CI (CI set) a package that cannot be installed fails the run; elsewhere a
# note says which tests will be skipped.
set -euo pipefail

what=${1:-test}
need=()
missing_pkg() { ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

for pkg in libldap2-dev libsasl2-dev; do missing_pkg "$pkg" && need+=("$pkg"); done
command -v cc >/dev/null 2>&1 || need+=(gcc)
if [ "$what" = test ]; then
  [ -x /usr/sbin/slapd ] || need+=(slapd)
  command -v ldapadd >/dev/null 2>&1 || need+=(ldap-utils)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    as_root=(none)
  fi
  if [ "${as_root[0]:-}" != none ]; then
    echo "Installing Debian packages: ${need[*]} ..."
    # slapd's own service is never started (the tests run their own slapd).
    if "${as_root[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq \
      && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 "${as_root[@]}" apt-get \
        -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null; then
      exit 0
    fi
  fi
fi

if [ -n "${CI:-}" ]; then
  echo "FAIL: Lotse needs the Debian packages ${need[*]}, which could not be installed." >&2
  exit 1
fi
echo "Note: missing Debian packages ${need[*]} (apt-get install ${need[*]});" \
  "python-ldap cannot build and the directory/production tests will be skipped."
