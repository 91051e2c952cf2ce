from django.urls import path

from crm import bulk_views, data_urls, views

app_name = "crm"

urlpatterns = [
    path("", views.contact_list, name="contact-list"),
    path("bulk/", bulk_views.contacts_bulk, name="contacts-bulk"),
    path("<int:pk>/", views.contact_detail, name="contact-detail"),
    path("<int:pk>/transition/", views.contact_transition, name="contact-transition"),
    path("<int:pk>/note/", views.contact_note, name="contact-note"),
    path("enrich/", views.enrich, name="enrich"),
    path("enrichment/", views.enrichment_run_list, name="enrichment-run-list"),
    path("enrichment/<int:pk>/", views.enrichment_run_detail, name="enrichment-run"),
    path("segments/", views.segment_list, name="segment-list"),
    path("segments/new/", views.segment_edit, name="segment-new"),
    path("segments/<int:pk>/", views.segment_edit, name="segment-edit"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="segment-delete"),
    *data_urls.urlpatterns,
]
