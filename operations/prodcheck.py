"""`make prod-check`: Lotse's production profile on this machine, without containers.

Starts what a Kreis runs, from this checkout, against the local PostgreSQL:

- a fresh database (`lotse_prodcheck`, or PRODCHECK_DATABASE), migrated and
  seeded with the demo data;
- its own Redis (redis-server on a free port: broker, shared cache);
- `collectstatic` with DEBUG off into a fresh STATIC_ROOT;
- two gunicorn web nodes (gunicorn.conf.py) on two ports, a Celery worker
  and beat, all with DEBUG=false, sessions in the database, one MEDIA_ROOT
  both nodes share;

then walks a journey that alternates between the nodes: sign in with
password and authenticator code split over A and B, record a consultation on
B and see it on A's case page, upload a consent scan through A's API and
find it listed on B (and its bytes in the shared storage), the static files
served by both, the worker's heartbeat through beat and Redis, a 404. It
prints one line per check and exits 1 at the first failure. Everything it
started is stopped and the database dropped at the end (--keep keeps them).

Standard library only (it runs Lotse as a user would, over HTTP).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class CheckFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CheckFailed(f"the process for port {port} ended with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise CheckFailed(f"nothing answered on port {port} within {timeout:.0f} s")


def totp(secret_base32: str, *, at: float | None = None, step: int = 30) -> str:
    """RFC 6238 code (SHA-1, 6 digits), as an authenticator app computes it."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


class _Form(HTMLParser):
    """The fields of a page's POST forms, as a browser sends them; `use(name)`
    picks the form that has a field `name` (the header's sign-out form is one)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[list[tuple[str, str]], dict[str, list[str]]]] = []
        self.fields: list[tuple[str, str]] = []
        self.options: dict[str, list[str]] = {}
        self._current: tuple[list[tuple[str, str]], dict[str, list[str]]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._current = ([], {})
            self.forms.append(self._current)
        if self._current is None or tag != "input" or not a.get("name"):
            return
        fields, options = self._current
        kind = a.get("type", "text").lower()
        if kind in {"radio", "checkbox"}:
            options.setdefault(a["name"], []).append(a.get("value", "on"))
            if "checked" in a:
                fields.append((a["name"], a.get("value", "on")))
        elif kind not in {"submit", "button", "file"}:
            fields.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None

    def use(self, name: str) -> _Form:
        for fields, options in self.forms:
            if name in options or any(n == name for n, _ in fields):
                self.fields, self.options = list(fields), options
                return self
        raise CheckFailed(f"no form with a field {name!r} on the page")


@dataclass
class Browser:
    """One person's browser: one cookie jar for both nodes (cookies know no port)."""

    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def csrf(self) -> str:
        return next((c.value or "" for c in self.jar if c.name == "csrftoken"), "")

    def request(
        self,
        base: str,
        path: str,
        *,
        data: Any = None,
        headers: dict[str, str] | None = None,
        method: str | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        body = None
        all_headers = {"Accept-Language": "de", **(headers or {})}
        if isinstance(data, list | dict):
            body = urllib.parse.urlencode(data, doseq=True).encode()
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif isinstance(data, bytes):
            body = data
        if body is not None or method not in {None, "GET"}:
            all_headers.setdefault("X-CSRFToken", self.csrf())
            all_headers.setdefault("Referer", base + path)
        request = urllib.request.Request(  # noqa: S310 - local node
            base + path, data=body, headers=all_headers, method=method
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def get(self, base: str, path: str) -> tuple[int, dict[str, str], bytes]:
        return self.request(base, path)

    def form(self, base: str, path: str) -> _Form:
        status, _headers, body = self.get(base, path)
        if status != 200:
            raise CheckFailed(f"GET {path} on {base} answered {status}")
        parser = _Form()
        parser.feed(body.decode())
        return parser


@dataclass
class Stack:
    """The running production profile: processes, nodes, paths."""

    database_url: str
    work: Path
    ports: tuple[int, int]
    keep: bool = False
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    log: Any = None

    @property
    def nodes(self) -> tuple[str, str]:
        return tuple(f"http://127.0.0.1:{port}" for port in self.ports)  # type: ignore[return-value]

    @property
    def media_root(self) -> Path:
        return self.work / "shared-media"

    def say(self, line: str) -> None:
        print(line, flush=True)

    def _python(self) -> str:
        return sys.executable

    def _bin(self, name: str) -> str:
        return str(Path(sys.executable).parent / name)

    def _run(self, *args: str) -> None:
        result = subprocess.run(  # noqa: S603 - fixed argv
            list(args), cwd=ROOT, env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise CheckFailed(f"{' '.join(args[1:3])} failed:\n{result.stdout}\n{result.stderr}")

    def _spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        out = (self.work / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(  # noqa: S603 - fixed argv
            list(args),
            cwd=ROOT,
            env=env or self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _database(self, action: str) -> None:
        import psycopg  # the project's own dependency

        parts = urllib.parse.urlsplit(self.database_url)
        name = parts.path.lstrip("/")
        admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if action == "create":
                conn.execute(f'CREATE DATABASE "{name}"')

    def start(self) -> None:
        for program in ("redis-server",):
            if shutil.which(program) is None:
                raise CheckFailed(f"{program} is missing: apt-get install redis-server")
        self.media_root.mkdir(parents=True, exist_ok=True)
        redis_port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
            "MEDIA_ROOT": str(self.media_root),
            "STATIC_ROOT": str(self.work / "static"),
            "LOTSE_VAR_DIR": str(self.work / "var"),
            "LOTSE_REQUIRE_MFA": "true",
            "LOTSE_LOG_FORMAT": "json",
            # Plain HTTP on the loopback; behind the real proxy these stay on.
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "HEARTBEAT_SECONDS": "2",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "2",
        }
        self._spawn(
            "redis",
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        )
        _wait_port(redis_port, self.processes["redis"])
        self.say(f"ok   redis on port {redis_port}")
        self._database("create")
        manage = [self._python(), "manage.py"]
        self._run(*manage, "migrate", "--noinput")
        self._run(*manage, "seed_demo")
        self.say("ok   database migrated and seeded (DEBUG off)")
        self._run(*manage, "collectstatic", "--noinput")
        manifest = self.work / "static" / "staticfiles.json"
        if not manifest.is_file():
            raise CheckFailed("collectstatic wrote no manifest")
        self.say("ok   collectstatic with DEBUG off")
        for label, port in zip("AB", self.ports, strict=True):
            self._spawn(
                f"web-{label}",
                self._bin("gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "config.wsgi",
                env={**self.env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
            )
        celery = self._bin("celery")
        self._spawn(
            "worker",
            celery,
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "--hostname",
            f"prodcheck-{uuid.uuid4().hex[:6]}@%h",
        )
        self._spawn(
            "beat",
            celery,
            "-A",
            "config",
            "beat",
            "--loglevel=INFO",
            "--schedule",
            str(self.work / "beat-schedule"),
        )
        for label, port in zip("AB", self.ports, strict=True):
            _wait_port(port, self.processes[f"web-{label}"])
        self.say(f"ok   web nodes A :{self.ports[0]} and B :{self.ports[1]}, worker, beat")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if not self.keep:
            try:
                self._database("drop")
            except Exception as exc:  # noqa: BLE001 - tidy-up must not hide the result
                self.say(f"note could not drop the database: {exc}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-4000:]}"
            for path in sorted(self.work.glob("*.log"))
        )


# --- the journey ---------------------------------------------------------------


def _json(body: bytes) -> Any:
    return json.loads(body.decode())


def _results(payload: Any) -> list[dict[str, Any]]:
    return payload["results"] if isinstance(payload, dict) else payload


def _section_rows(html: str, anchor: str) -> int:
    start = html.index(anchor)
    end = html.index("</section>", start)
    return html[start:end].count("<tr><td>")


def sign_in(browser: Browser, first: str, second: str, username: str, password: str) -> None:
    """Password on one node, the authenticator set-up and code on the other."""
    browser.form(first, "/accounts/login/")  # sets the CSRF cookie
    status, headers, _ = browser.request(
        first,
        "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": browser.csrf()},
    )
    if status != 302:
        raise CheckFailed(f"sign-in as {username} on {first} answered {status}")
    status, headers, _ = browser.get(second, "/arbeitsplatz/")
    if status != 302 or "/accounts/zwei-faktor/" not in headers.get("Location", ""):
        raise CheckFailed(f"second node did not ask for the second factor ({status})")
    status, _, body = browser.get(second, "/accounts/zwei-faktor/einrichten/")
    match = re.search(r"secret=([A-Z2-7]+)", body.decode())
    if status != 200 or not match:
        raise CheckFailed("the authenticator set-up page shows no key")
    status, _, body = browser.request(
        first,
        "/accounts/zwei-faktor/einrichten/",
        data={"otp": totp(match.group(1)), "csrfmiddlewaretoken": browser.csrf()},
    )
    if status != 200 or "backup-codes" not in body.decode():
        raise CheckFailed(f"confirming the authenticator code answered {status}")


def journey(stack: Stack) -> dict[str, Any]:
    """The smoke journey alternating between the nodes; returns what it saw."""
    a, b = stack.nodes
    seen: dict[str, Any] = {}
    for node in (a, b):
        status, _, body = Browser().get(node, "/healthz")
        if status != 200:
            raise CheckFailed(f"/healthz on {node} answered {status}: {body[:200]!r}")
    stack.say("ok   /healthz 200 on both nodes (database, broker)")

    browser = Browser()
    sign_in(browser, a, b, "manager", "lotse-demo-2026")
    stack.say("ok   signed in on A, second factor set up across B and A")

    status, _, body = browser.get(b, "/api/v1/cases/?page_size=200")
    if status != 200:
        raise CheckFailed(f"case list on B answered {status}")
    cases = _results(_json(body))
    case = next(
        (c for c in cases if c["status"] in {"active", "planning", "initial_counselling"}), None
    )
    if case is None:
        raise CheckFailed("the demo manager has no case open for consultations")
    case_path = f"/faelle/{case['id']}/?beratungen=alle"
    status, _, body = browser.get(a, case_path)
    if status != 200:
        raise CheckFailed(f"case page on A answered {status}")
    before = _section_rows(body.decode(), 'id="beratungen"')
    seen["case_page"] = body.decode()

    form = browser.form(b, f"/faelle/{case['id']}/beratung/").use("topics")
    data = dict(form.fields)
    fields = list(form.fields)
    if not any(name == "topics" for name, _ in fields):
        fields.append(("topics", form.options["topics"][0]))
    if "duration_minutes" not in data and "other_minutes" not in data:
        fields.append(("duration_minutes", form.options["duration_minutes"][0]))
    status, headers, body = browser.request(b, f"/faelle/{case['id']}/beratung/", data=fields)
    if status != 302:
        raise CheckFailed(f"recording a consultation on B answered {status}")
    status, _, body = browser.get(a, case_path)
    after = _section_rows(body.decode(), 'id="beratungen"')
    if after != before + 1:
        raise CheckFailed(f"A's case page shows {after} consultations, expected {before + 1}")
    stack.say(f"ok   consultation recorded on B, case page on A shows it ({before} -> {after})")

    status, _, body = browser.get(a, f"/api/v1/cases/{case['id']}/consents/")
    consents = _results(_json(body)) if status == 200 else []
    if consents:
        scan = b"%PDF-1.4\n% Lotse prod-check synthetic scan\n%%EOF\n"
        boundary = uuid.uuid4().hex
        multipart = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="scan.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
            + scan
            + f"\r\n--{boundary}--\r\n".encode()
        )
        documents_before = _section_rows(
            browser.get(b, case_path)[2].decode(), 'id="documents-title"'
        )
        status, _, body = browser.request(
            a,
            f"/api/v1/cases/{case['id']}/consents/{consents[0]['id']}/evidence/",
            data=multipart,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        if status != 201:
            raise CheckFailed(f"uploading a consent scan on A answered {status}: {body[:300]!r}")
        documents_after = _section_rows(
            browser.get(b, case_path)[2].decode(), 'id="documents-title"'
        )
        stored = [p for p in stack.media_root.rglob("*") if p.is_file()]
        if documents_after != documents_before + 1 or not any(
            p.read_bytes() == scan for p in stored
        ):
            raise CheckFailed("the scan uploaded on A is not listed on B or not in shared storage")
        stack.say("ok   consent scan uploaded on A, listed on B, stored in the shared media")

    static = re.search(r'href="(/static/[^"]+\.css)"', seen["case_page"])
    if not static:
        raise CheckFailed("the case page links no stylesheet")
    seen["stylesheet"] = static.group(1)
    for node in (a, b):
        status, headers, _ = Browser().get(node, static.group(1))
        if status != 200 or "immutable" not in headers.get("Cache-Control", ""):
            raise CheckFailed(f"{static.group(1)} on {node}: {status}")
    stack.say(f"ok   collected static file {static.group(1)} served by both nodes")

    status, _, body = browser.get(b, "/gibt-es-nicht/")
    if status != 404:
        raise CheckFailed(f"an unknown page on B answered {status}")
    seen["not_found"] = body.decode()
    stack.say("ok   unknown page answers 404")

    deadline = time.monotonic() + 90
    while True:
        health = _json(Browser().get(a, "/healthz")[2])
        if health.get("worker_and_beat", {}).get("status") == "ok":
            break
        if time.monotonic() > deadline:
            raise CheckFailed(f"no worker heartbeat through beat and Redis: {health}")
        time.sleep(2)
    stack.say("ok   beat -> Redis -> worker heartbeat seen in /healthz")

    status, _, _ = browser.request(
        a, "/accounts/logout/", data={"csrfmiddlewaretoken": browser.csrf()}
    )
    status, headers, _ = browser.get(b, "/arbeitsplatz/")
    if status != 302 or "/accounts/login/" not in headers.get("Location", ""):
        raise CheckFailed("signed out on A but B still serves the session")
    stack.say("ok   signed out on A, B asks for sign-in")
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", default=os.environ.get("PRODCHECK_PORTS", "8101,8102"))
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    args = parser.parse_args(argv)
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/lotse")
    if not base.startswith("postgres"):
        print(
            "make prod-check needs PostgreSQL: set DATABASE_URL=postgresql://...", file=sys.stderr
        )
        return 1
    name = os.environ.get("PRODCHECK_DATABASE", "lotse_prodcheck")
    parts = urllib.parse.urlsplit(base)
    database_url = urllib.parse.urlunsplit(parts._replace(path="/" + name))
    port_a, port_b = (int(p) for p in args.ports.split(","))
    work = Path(tempfile.mkdtemp(prefix="lotse-prodcheck-"))
    stack = Stack(database_url=database_url, work=work, ports=(port_a, port_b), keep=args.keep)
    try:
        stack.start()
        journey(stack)
    except CheckFailed as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        print(stack.logs(), file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            stack.stop()
            shutil.rmtree(work, ignore_errors=True)
    print("prod-check passed: two web nodes, worker and beat, DEBUG off.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
