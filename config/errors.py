"""Error pages in the site's layout (500 and 503 stay standalone: the database may be down)."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template.loader import get_template


def not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def forbidden(request, exception=None):
    return render(request, "errors/403.html", status=403)


def server_error(request):
    """A 500, or a 503 when the database could not be reached (it is restarting).

    Django calls this while handling the uncaught exception, wherever it was raised (a
    view or a middleware such as the scope's, which reads memberships first), so
    ``sys.exc_info()`` names it. The broken connection is dropped at the end of the
    request (CONN_HEALTH_CHECKS in settings checks a reused one before use), so the next
    request reconnects by itself once PostgreSQL is back.
    """
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        response = HttpResponse(get_template("503.html").render(), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponseServerError(get_template("errors/500.html").render())
