"""Outside programs some tests start themselves: a directory (slapd), Redis,
gunicorn. Missing, such a test is skipped with a note, except in CI (`CI`
set), where it fails with the Debian package to install (`make test`
installs them: scripts/ensure_debian_packages.sh)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SLAPD = "/usr/sbin/slapd"
LDAP_SUFFIX = "dc=lotse,dc=test"
LDAP_ADMIN_DN = f"cn=admin,{LDAP_SUFFIX}"
LDAP_ADMIN_PASSWORD = "directory-test-admin"


def require_program(path_or_name: str, *, package: str) -> str:
    """Return the program's path, or skip (fail in CI) naming its package."""
    found = path_or_name if os.path.isabs(path_or_name) else shutil.which(path_or_name)
    if found and os.access(found, os.X_OK):
        return found
    message = (
        f"{path_or_name} is missing: install the Debian package {package} "
        "(make test does: scripts/ensure_debian_packages.sh)."
    )
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 20.0, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process on port {port} ended with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port} within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {root}/slapd.pid
argsfile {root}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{admin}"
rootpw {password}
directory {root}/data
access to attrs=userPassword by self auth by anonymous auth by * none
access to * by * read
"""


@contextmanager
def slapd_directory(tmp_path: Path) -> Iterator[str]:
    """Start Debian's slapd as a plain process on a free port with a
    throw-away configuration and an empty `dc=lotse,dc=test`; yield its URI."""
    slapd = require_program(SLAPD, package="slapd")
    (tmp_path / "data").mkdir()
    conf = tmp_path / "slapd.conf"
    conf.write_text(
        _SLAPD_CONF.format(
            root=tmp_path, suffix=LDAP_SUFFIX, admin=LDAP_ADMIN_DN, password=LDAP_ADMIN_PASSWORD
        )
    )
    port = free_port()
    uri = f"ldap://127.0.0.1:{port}"
    log = (tmp_path / "slapd.log").open("w")
    # -d 0: stay in the foreground (no daemon to chase), log nothing.
    process = subprocess.Popen(  # noqa: S603
        [slapd, "-d", "0", "-f", str(conf), "-h", uri + "/"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        try:
            wait_for_port(port, process=process)
        except RuntimeError as exc:
            log.flush()
            raise RuntimeError(
                f"slapd did not start: {(tmp_path / 'slapd.log').read_text()}"
            ) from exc
        import ldap

        conn = ldap.initialize(uri)
        conn.simple_bind_s(LDAP_ADMIN_DN, LDAP_ADMIN_PASSWORD)
        conn.add_s(
            LDAP_SUFFIX,
            [
                ("objectClass", [b"dcObject", b"organization"]),
                ("dc", [b"lotse"]),
                ("o", [b"Landratsamt Test"]),
            ],
        )
        for ou in ("people", "groups"):
            conn.add_s(
                f"ou={ou},{LDAP_SUFFIX}",
                [("objectClass", [b"organizationalUnit"]), ("ou", [ou.encode()])],
            )
        conn.unbind_s()
        yield uri
    finally:
        stop(process)
        log.close()
