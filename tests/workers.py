"""Real Celery workers and a Redis of the test's own, for the tests of faults.

``worker(name, queue, redis_url)`` starts ``celery worker`` as a separate process on the
test database (PostgreSQL: a separate process cannot see SQLite's in-memory test
database). ``OwnRedis`` runs a redis-server on a free loopback port that a test may stop
and start again without touching the Redis the rest of the suite (and other people) use.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def wait_for(predicate, seconds: float, what: str, *, every: float = 0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def worker(
    name: str, queue: str, redis_url: str, *, log: Path | None = None, **env
) -> subprocess.Popen:
    """A ``celery worker`` process (solo pool) consuming ``queue`` on ``redis_url``."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        **env,
    }
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child holds it
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
             "-Q", queue, "-n", f"{name}@%h", "--without-heartbeat", "--without-gossip",
             "--without-mingle", "-l", "WARNING"],
            cwd=ROOT, env=environment, stdout=out, stderr=out,
        )  # fmt: skip
    finally:
        if log:
            out.close()


def stop(process: subprocess.Popen, seconds: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_available() -> bool:
    return shutil.which("redis-server") is not None


class OwnRedis:
    """A redis-server on a free port that keeps nothing on disk; ``stop`` and ``start``."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)

        def answers():
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_for(answers, 30, f"redis-server on port {self.port}", every=0.1)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None
