"""Public addresses of subscription forms (no login): /f/<slug>/ and the double opt-in link."""

from django.urls import path

from crm import form_public_views

urlpatterns = [
    path("confirm/<str:token>/", form_public_views.subscription_confirm, name="subscription-confirm"),
    path("<slug:slug>/", form_public_views.form_page, name="subscription-form"),
    path("<slug:slug>/token/", form_public_views.form_token, name="subscription-form-token"),
    path("<slug:slug>/submit/", form_public_views.form_post, name="subscription-form-post"),
]
