"""/healthz: is the database up, and the broker? JSON, 200 or 503, never a 500."""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _broker() -> str:
    if not settings.REDIS_URL:
        return "ok (tasks run in-process)"
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1, retry_on_timeout=False
    )
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


CHECKS = {"database": _database, "broker": _broker}


@never_cache
@require_GET
def healthz(request):
    report, failing = {}, []
    for name, check in CHECKS.items():
        try:
            report[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure is a failing part, not a 500
            report[name] = f"down: {type(exc).__name__}"
            failing.append(name)
    status = "ok" if not failing else "down"
    return JsonResponse(
        {"status": status, "checks": report, "failing": failing}, status=503 if failing else 200
    )


class HealthCheckMiddleware:
    """Answer /healthz before host checks run (the HTTPS redirect exempts it), inside the
    middlewares that add the security headers, so its answer carries them too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return healthz(request)
        return self.get_response(request)
