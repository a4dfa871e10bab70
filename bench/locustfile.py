"""Mixed principal / coach / tech-staff traffic for the load part (run by bench/load.py).

Each simulated person is one of the seeded logins of its role, already signed in (the plan
bench/load.py writes, PILLARWISE_LOAD_PLAN, carries a session per login and the URLs of
its own school's pages), and browses the pages that role uses with think time between
clicks. Nothing here touches the database. Every request sends ``X-Forwarded-Proto:
https``, as the TLS proxy in front of gunicorn would.
"""

from __future__ import annotations

import itertools
import json
import os

from locust import HttpUser, between, task

PLAN = json.loads(open(os.environ["PILLARWISE_LOAD_PLAN"]).read())  # noqa: SIM115, PTH123
HEADERS = {"X-Forwarded-Proto": "https"}
_next_login = {role: itertools.cycle(PLAN["people"][role]) for role in PLAN["people"]}


class Person(HttpUser):
    abstract = True
    role = ""
    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        self.me = next(_next_login[self.role])
        self.headers = {**HEADERS, "Cookie": f"{PLAN['cookie']}={self.me['session']}"}

    def visit(self, page: str) -> None:
        url = self.me["urls"][page]
        with self.client.get(
            url, headers=self.headers, name=f"{self.role}: {page}", catch_response=True
        ) as response:
            if response.status_code == 200 and "/accounts/login/" in response.url:
                response.failure("sent to the sign-in page")


class Principal(Person):
    role = "principal"
    weight = 2

    @task(3)
    def dashboard(self):
        self.visit("readiness")

    @task(2)
    def initiative(self):
        self.visit("initiative")

    @task(2)
    def survey_results(self):
        self.visit("survey_results")

    @task(1)
    def coverage(self):
        self.visit("coverage")

    @task(1)
    def inventory(self):
        self.visit("inventory")


class Coach(Person):
    role = "coach"
    weight = 2

    @task(3)
    def sessions(self):
        self.visit("sessions")

    @task(2)
    def reports(self):
        self.visit("pd_reports")

    @task(2)
    def session(self):
        self.visit("session")


class TechStaff(Person):
    role = "tech"
    weight = 2

    @task(3)
    def inventory_filtered(self):
        self.visit("inventory_filtered")

    @task(2)
    def inventory_search(self):
        self.visit("inventory_search")

    @task(3)
    def device(self):
        self.visit("device")

    @task(1)
    def coverage(self):
        self.visit("coverage")
