"""Error pages in the site's layout (500 stays standalone: the database may be down)."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template.loader import get_template


def not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def forbidden(request, exception=None):
    return render(request, "errors/403.html", status=403)


def server_error(request):
    return HttpResponseServerError(get_template("errors/500.html").render())
