"""A Kreis's office day for Locust (run by bench/load.py, never on its own
against anything but the two local nodes the bench starts).

The plan (BENCH_LOAD_PLAN, written by bench/load.py) gives every simulated
user a signed-in session and its own cases; the writes Locust saw succeed
are written to BENCH_LOAD_RESULT when the run stops, for the bench to find
them in the database.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import secrets
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

PLAN: dict[str, Any] = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text())
WAIT = PLAN["wait"]
HOSTS = PLAN["hosts"]
RESUME_LINK = re.compile(r"/aufgaben/ablauf/(\d+)/resume/(\d+)/")  # the task's detail link
_next_node = itertools.count()
_next_manager = itertools.count()
_next_lead = itertools.count()
WRITTEN = {"consultations": 0, "resumed": 0, "paused": 0}


@events.test_stop.add_listener
def _write_result(**_kwargs: Any) -> None:
    Path(os.environ["BENCH_LOAD_RESULT"]).write_text(json.dumps(WRITTEN))


class Office(HttpUser):
    """Signed in on one of the two nodes (alternating), as a proxy with TLS
    would pass it on."""

    abstract = True
    wait_time = between(*WAIT)
    host = HOSTS[0]

    def sign_in(self, slot: dict[str, Any]) -> None:
        node = HOSTS[next(_next_node) % len(HOSTS)]
        self.client.base_url = node
        self.csrf = secrets.token_hex(16)  # 32 characters, as Django's own secret
        domain = node.split("//")[1].split(":")[0]
        self.client.cookies.set(PLAN["session_cookie"], slot["session"], domain=domain)
        self.client.cookies.set(PLAN["csrf_cookie"], self.csrf, domain=domain)
        self.client.headers.update(
            {
                "X-Forwarded-Proto": "https",
                "Origin": node.replace("http://", "https://"),
                "Accept-Language": "de",
            }
        )

    def page(self, path: str, name: str) -> str:
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            return response.text

    def post(self, path: str, name: str, data: dict[str, Any]) -> bool:
        """POST a form; success is the redirect after it."""
        with self.client.post(
            path,
            name=name,
            data={"csrfmiddlewaretoken": self.csrf, **data},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")
                return False
            return True


class Manager(Office):
    fixed_count = len(PLAN["managers"])  # one simulated user per planned slot

    def on_start(self) -> None:
        slot = PLAN["managers"][next(_next_manager) % len(PLAN["managers"])]
        self.sign_in(slot)
        self.active = list(slot["active"])
        self.dormant = list(slot["dormant"])
        self.resumed: list[int] = []
        self.search = slot["search"]

    def any_case(self) -> int:
        return random.choice(self.active + self.dormant + self.resumed)

    @task(4)
    def case_page(self) -> None:
        self.page(f"/faelle/{self.any_case()}/", "/faelle/[case]/")

    @task(1)
    def case_work_page(self) -> None:
        self.page(f"/aufgaben/fall/{self.any_case()}/", "/aufgaben/fall/[case]/")

    @task(2)
    def case_list(self) -> None:
        self.page("/arbeitsplatz/faelle/", "/arbeitsplatz/faelle/")

    @task(1)
    def search(self) -> None:
        self.page(f"/arbeitsplatz/faelle/?q={self.search}", "/arbeitsplatz/faelle/?q=[name]")

    @task(1)
    def dashboard(self) -> None:
        self.page("/arbeitsplatz/", "/arbeitsplatz/")

    @task(1)
    def inbox(self) -> None:
        self.page("/aufgaben/", "/aufgaben/")

    @task(1)
    def figures(self) -> None:
        self.page("/berichte/", "/berichte/")

    @task(3)
    def consultation(self) -> None:
        if not self.active:
            return
        case = random.choice(self.active)
        path = f"/faelle/{case}/beratung/"
        self.page(path, "/faelle/[case]/beratung/")
        if self.post(path, "POST /faelle/[case]/beratung/", PLAN["consultation"]):
            WRITTEN["consultations"] += 1

    @task(2)
    def resume_task(self) -> None:
        """Complete the guided `resume` task of a resting case."""
        if not self.dormant:
            return
        case = self.dormant[0]
        found = RESUME_LINK.search(self.page(f"/aufgaben/fall/{case}/", "/aufgaben/fall/[case]/"))
        if found is None:
            return  # the page failed (counted) or shows no task yet
        path = found.group(0) + "execute/"
        name = "/aufgaben/ablauf/[process]/resume/[task]/execute/"
        self.page(path, name)
        if self.post(path, "POST " + name, {"action": "resume", **PLAN["consultation"]}):
            WRITTEN["resumed"] += 1
            self.resumed.append(self.dormant.pop(0))

    @task(1)
    def pause(self) -> None:
        """Let a case rest again (a case action outside the guided tasks)."""
        if not self.resumed:
            return
        case = self.resumed[0]
        if self.post(
            f"/aufgaben/fall/{case}/aktion/pause/",
            "POST /aufgaben/fall/[case]/aktion/pause/",
            {"reason": "OTHER"},
        ):
            WRITTEN["paused"] += 1
            self.dormant.append(self.resumed.pop(0))


class Supervisor(Office):
    fixed_count = len(PLAN["supervisors"])

    def on_start(self) -> None:
        self.sign_in(PLAN["supervisors"][next(_next_lead) % len(PLAN["supervisors"])])

    @task(3)
    def team_list(self) -> None:
        self.page("/arbeitsplatz/team/", "/arbeitsplatz/team/")

    @task(1)
    def team_list_filtered(self) -> None:
        self.page("/arbeitsplatz/team/?review=overdue&page=1", "/arbeitsplatz/team/?review=...")

    @task(1)
    def dashboard(self) -> None:
        self.page("/arbeitsplatz/", "/arbeitsplatz/")

    @task(1)
    def approvals(self) -> None:
        self.page("/aufgaben/freigaben/", "/aufgaben/freigaben/")

    @task(2)
    def figures(self) -> None:
        self.page("/berichte/", "/berichte/")
