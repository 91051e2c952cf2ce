from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from aicmo_site import audit_views, retention_views, run_views, views
from crm import push_views

admin.site.site_header = "AICMO administration"
admin.site.site_title = "AICMO admin"
admin.site.index_title = "Back-office data"

handler400 = "aicmo_site.views.error_400"
handler403 = "aicmo_site.views.error_403"
handler404 = "aicmo_site.views.error_404"
handler500 = "aicmo_site.views.error_500"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("runs/", run_views.run_list, name="run-list"),
    path("runs/<id:pk>/", run_views.run_detail, name="run-detail"),
    path("audit/", audit_views.audit_list, name="audit-list"),
    path("retention/", retention_views.retention, name="retention"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("aicmo_site.api.urls")),
    path("contacts/", include("crm.urls", namespace="crm")),
    path("publishing/", include("publishing.urls", namespace="publishing")),
    path("media/library/", include("media.urls", namespace="media")),
    path("analytics/", include("analytics.urls", namespace="analytics")),
    path("providers/", include("gateways.urls", namespace="gateways")),
    path("webhooks/", include("webhooks.urls", namespace="webhooks")),
    path("alerts/", include("alerts.urls", namespace="alerts")),
    path("journeys/", include("automation.urls", namespace="automation")),
    # Reached from inside emails and by providers: open pixel, click redirect, unsubscribe, events;
    # and the back-office pages of email sends (/email/campaigns/).
    path("", include("publishing.email.urls")),
    # SMS sends' back-office pages and the SMS provider's delivery-status callback.
    path("", include("publishing.sms.urls")),
    path("", include("publishing.push.urls")),
    # The web-push service worker, at the root so that it may control every page.
    path("push-sw.js", push_views.push_service_worker, name="push-service-worker"),
    # Public feeds of website channels, at the short addresses feed readers are given.
    path("feeds/", include("publishing.feed_urls")),
    # Subscription forms' hosted pages, the endpoint embedded forms post to, and double opt-in links.
    path("f/", include("crm.form_public_urls")),
]

if settings.DEBUG:
    # Only renditions are public, as in production (README, deployment): an original upload keeps its
    # GPS position and camera owner and goes out through /media/library/<id>/original/ or the API,
    # to people who may see the library; import files and error reports (crm/) hold contact data.
    urlpatterns += [
        path(f"{settings.MEDIA_URL.strip('/')}/renditions/<path:path>", serve,
             {"document_root": settings.MEDIA_ROOT / "renditions"})
    ]
