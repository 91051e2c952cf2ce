"""Email's public routes at the root and its API under /api/, as they are mounted in the site; only
these, so the tests do not depend on other apps' routes (the site's 404 page needs the whole site's)."""

from django.http import HttpResponseNotFound
from django.urls import include, path

urlpatterns = [
    path("api/", include("publishing.email.api.urls")),
    path("", include("publishing.email.urls")),
]


def handler404(request, exception):
    return HttpResponseNotFound("Not found")
