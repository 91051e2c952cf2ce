"""The /api/ root: each app contributes its own routes from `<app>/api/urls.py`."""

from importlib import import_module

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from aicmo_site.api.audit import AuditEntryViewSet
from aicmo_site.api.auth import MeView, TokenLoginView, TokenLogoutView
from aicmo_site.api.retention import RetentionView
from aicmo_site.api.root import ApiRootView
from aicmo_site.api.routers import ApiRouter
from aicmo_site.api.runs import BackgroundRunViewSet

API_APPS = ("gateways", "webhooks", "crm", "media", "publishing", "automation", "analytics", "alerts")

urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("auth/token/", TokenLoginView.as_view(), name="api-token-login"),
    path("auth/logout/", TokenLogoutView.as_view(), name="api-token-logout"),
    path("auth/me/", MeView.as_view(), name="api-me"),
    path("retention/", RetentionView.as_view(), name="api-retention"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

runs = ApiRouter()
runs.register("runs", BackgroundRunViewSet, basename="api-run")
runs.register("audit", AuditEntryViewSet, basename="api-audit")
urlpatterns += runs.urls

for app in API_APPS:
    module = import_module(f"{app}.api.urls")
    if getattr(module, "urlpatterns", None):
        urlpatterns.append(path("", include(module.urlpatterns)))
