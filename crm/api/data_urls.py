"""API routes for getting data in and out of the CRM (imports, exports, access, erasure)."""

from django.urls import path

from aicmo_site.api.routers import ApiRouter
from crm.api.exports import AirtableSyncView, ContactAccessExportView, ContactEraseView, ContactExportView
from crm.api.imports import ImportRunViewSet

router = ApiRouter()
router.include_root_view = False
router.register("imports", ImportRunViewSet, basename="import-run")

urlpatterns = router.urls + [
    path("exports/contacts/", ContactExportView.as_view(), name="contact-export"),
    path("privacy/contacts/<id:pk>/export/", ContactAccessExportView.as_view(), name="contact-access-export"),
    path("privacy/contacts/<id:pk>/erase/", ContactEraseView.as_view(), name="contact-erase"),
    path("exports/airtable/", AirtableSyncView.as_view(), name="airtable-sync"),
]
