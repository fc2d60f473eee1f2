"""The production profile (`make prod-check`, operations/prodcheck.py) driven
by the suite: two gunicorn nodes, a Celery worker and beat, Redis, DEBUG off,
static files collected with DEBUG off and served from the collected files.

Needs PostgreSQL and Debian's redis-server: skipped without them, a failure
in CI."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import urllib.parse
import uuid
from pathlib import Path

import pytest

from operations.prodcheck import Browser, Stack, free_port, journey
from tests.services import require_program

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def stack():
    require_program("redis-server", package="redis-server")
    base = os.environ.get("DATABASE_URL", "")
    parts = urllib.parse.urlsplit(base)
    name = f"{parts.path.lstrip('/') or 'lotse'}_prodcheck_{uuid.uuid4().hex[:6]}"
    work = Path(tempfile.mkdtemp(prefix="lotse-prodcheck-test-"))
    running = Stack(
        database_url=urllib.parse.urlunsplit(parts._replace(path="/" + name)),
        work=work,
        ports=(free_port(), free_port()),
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def seen(stack):
    """The smoke journey, once (it sets up the demo manager's authenticator)."""
    return journey(stack)


def test_two_node_smoke_journey_alternates_between_the_nodes(stack, seen) -> None:
    # journey() raises CheckFailed at the first step that does not hold:
    # sign-in split over A and B, a consultation recorded on B seen on A, a
    # scan uploaded on A listed on B and stored in the shared media, the
    # worker's heartbeat through beat and Redis, sign-out on A ending B's session.
    assert seen["case_page"]
    assert any(stack.media_root.rglob("*.pdf"))
    for process in stack.processes.values():
        assert process.poll() is None  # nothing crashed on the way


def test_collected_static_files_serve_the_login_and_case_pages(stack, seen) -> None:
    assert (stack.work / "static" / "staticfiles.json").is_file()
    node_a, node_b = stack.nodes
    status, _, body = Browser().get(node_a, "/accounts/login/")
    assert status == 200
    login = body.decode()
    stylesheet = re.search(r'href="(/static/lotse\.[0-9a-f]{12}\.css)"', login)
    assert stylesheet, "the login page links the hashed stylesheet of the manifest"
    assert stylesheet.group(1) == seen["stylesheet"]
    assert (stack.work / "static" / stylesheet.group(1).removeprefix("/static/")).is_file()
    status, headers, css = Browser().get(node_b, stylesheet.group(1))
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert css
    assert 'href="/static/lotse.css"' not in seen["case_page"]
    assert "Beratungen" in seen["case_page"]


def test_unknown_page_is_a_german_404_through_gunicorn(stack, seen) -> None:
    # Lotse's own error page (templates/404.html) in the site's layout, with
    # its stylesheet from the collected files.
    assert "Seite nicht gefunden" in seen["not_found"]
    assert seen["stylesheet"] in seen["not_found"]
    assert "Traceback" not in seen["not_found"]
