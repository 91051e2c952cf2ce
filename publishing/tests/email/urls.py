"""The site's routes plus email's public ones, until the lead mounts them in aicmo_site/urls.py."""

from django.urls import include, path

from aicmo_site.urls import handler404, handler500  # noqa: F401
from aicmo_site.urls import urlpatterns as site_urlpatterns

urlpatterns = [*site_urlpatterns, path("", include("publishing.email.urls"))]
