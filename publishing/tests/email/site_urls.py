"""The whole site plus email's root routes, as aicmo_site/urls.py will have them once the lead adds
path("", include("publishing.email.urls")); back-office pages need the site's own routes."""

from django.urls import include, path

from aicmo_site.urls import urlpatterns as site_urlpatterns

handler404 = "aicmo_site.views.error_404"
handler500 = "aicmo_site.views.error_500"
urlpatterns = [*site_urlpatterns, path("", include("publishing.email.urls"))]
