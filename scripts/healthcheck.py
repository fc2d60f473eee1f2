"""Health checks for the container runtime and systemd (`web`, `worker`, `beat`).

    python scripts/healthcheck.py web     # /healthz answers 200 (database and broker up)
    python scripts/healthcheck.py worker  # the Celery worker on this host answers a ping
    python scripts/healthcheck.py beat    # beat wrote its schedule in the last 10 minutes

Exit 0 when healthy, 1 otherwise; standard library (and Celery) only.
"""

from __future__ import annotations

import glob
import os
import socket
import subprocess
import sys
import time
import urllib.request


def web() -> bool:
    bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
    port = bind.rsplit(":", 1)[-1]
    # Ask with a host name Lotse answers to (ALLOWED_HOSTS), over plain HTTP
    # (/healthz is exempt from the HTTPS redirect).
    host = (os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0] or "localhost").strip()
    host = "localhost" if host.startswith(".") or host == "*" else host
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=8) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def worker() -> bool:
    celery = os.path.join(os.path.dirname(sys.executable), "celery")
    result = subprocess.run(  # noqa: S603 - fixed argv
        [
            celery,
            "-A",
            "config",
            "inspect",
            "ping",
            "--timeout",
            "5",
            "-d",
            f"celery@{socket.gethostname()}",
        ],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return result.returncode == 0


def beat() -> bool:
    var = os.environ.get("LOTSE_VAR_DIR", "var")
    files = glob.glob(os.path.join(var, "celery", "beat-schedule*"))
    return any(time.time() - os.path.getmtime(path) < 600 for path in files)


if __name__ == "__main__":
    checks = {"web": web, "worker": worker, "beat": beat}
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        sys.exit("usage: healthcheck.py web|worker|beat")
    sys.exit(0 if checks[sys.argv[1]]() else 1)
