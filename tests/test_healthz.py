import socket

import pytest
from django.urls import reverse


@pytest.fixture
def closed_port():
    """A local port with nothing listening: a broker that is down, for real."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_answers_200_when_all_parts_are_up(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert set(body["checks"]) == {"database", "broker"}


def test_it_answers_503_naming_the_broker_when_it_is_down(client, db, settings, closed_port):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"].startswith("down")
    assert body["checks"]["database"] == "ok"


def test_it_answers_container_checks_on_any_host_without_redirect(client, db, settings):
    settings.ALLOWED_HOSTS = ["pillarwise.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
