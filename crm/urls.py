from django.urls import path

from crm import (
    bulk_views,
    data_urls,
    form_views,
    github_views,
    list_views,
    push_views,
    sms_views,
    stripe_views,
    views,
)

app_name = "crm"

urlpatterns = [
    path("", views.contact_list, name="contact-list"),
    path("bulk/", bulk_views.contacts_bulk, name="contacts-bulk"),
    path("<id:pk>/", views.contact_detail, name="contact-detail"),
    path("<id:pk>/transition/", views.contact_transition, name="contact-transition"),
    path("<id:pk>/note/", views.contact_note, name="contact-note"),
    path("<id:pk>/sms-consent/", views.contact_sms_consent, name="contact-sms-consent"),
    path("enrich/", views.enrich, name="enrich"),
    path("enrichment/", views.enrichment_run_list, name="enrichment-run-list"),
    path("enrichment/<id:pk>/", views.enrichment_run_detail, name="enrichment-run"),
    path("segments/", views.segment_list, name="segment-list"),
    path("segments/new/", views.segment_edit, name="segment-new"),
    path("segments/<id:pk>/", views.segment_edit, name="segment-edit"),
    path("segments/<id:pk>/delete/", views.segment_delete, name="segment-delete"),
    path("lists/", list_views.contact_list_index, name="list-index"),
    path("lists/<id:pk>/", list_views.contact_list_detail, name="list-detail"),
    path("lists/<id:pk>/delete/", list_views.contact_list_delete, name="list-delete"),
    path("lists/<id:pk>/remove/", list_views.contact_list_remove, name="list-remove"),
    path("forms/", form_views.form_list, name="form-list"),
    path("forms/new/", form_views.form_edit, name="form-new"),
    path("forms/<id:pk>/", form_views.form_detail, name="form-detail"),
    path("forms/<id:pk>/edit/", form_views.form_edit, name="form-edit"),
    path("forms/<id:pk>/delete/", form_views.form_delete, name="form-delete"),
    path("forms/<id:pk>/sendings/<id:submission_pk>/confirmation/", form_views.form_submission_confirmation,
         name="form-submission-confirmation"),
    path("stripe/events/", stripe_views.stripe_events, name="stripe-events"),
    path("github/events/", github_views.github_events, name="github-events"),
    path("sms/inbound/", sms_views.sms_inbound, name="sms-inbound"),
    path("push/subscriptions/", push_views.push_subscribe, name="push-subscribe"),
    path("push/unsubscribe/", push_views.push_unsubscribe, name="push-unsubscribe"),
    path("push/allow/<str:token>/", push_views.push_allow, name="push-allow"),
    *data_urls.urlpatterns,
]
