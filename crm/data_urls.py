"""Back-office pages for imports and exports (mounted under /contacts/ by crm/urls.py)."""

from django.urls import path

from crm import data_views

urlpatterns = [
    path("imports/", data_views.import_list, name="import-list"),
    path("imports/<id:pk>/", data_views.import_detail, name="import-detail"),
    path("imports/<id:pk>/mapping/", data_views.import_map, name="import-map"),
    path("imports/<id:pk>/errors/", data_views.import_errors, name="import-errors"),
    path("imports/<id:pk>/cancel/", data_views.import_cancel, name="import-cancel"),
    path("export/", data_views.contact_export, name="contact-export"),
    path("privacy/<id:pk>/", data_views.contact_privacy, name="contact-privacy"),
    path("privacy/<id:pk>/data.json", data_views.contact_access_download, name="contact-access-download"),
]
