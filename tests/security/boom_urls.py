"""The site's URLs plus one view that fails, to see the 500 page's headers."""

from django.urls import path

from config.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("a view that fails")


urlpatterns = [*urlpatterns, path("boom/", boom)]
