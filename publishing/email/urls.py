"""Public routes, mounted at the site root: path("", include("publishing.email.urls"))."""

from django.urls import path

from publishing.email import views

urlpatterns = [
    path("t/o/<str:token>", views.open_pixel, name="email-open"),
    path("t/c/<str:token>", views.click, name="email-click"),
    path("u/<str:token>", views.unsubscribe, name="email-unsubscribe"),
    path("email/events", views.provider_events, name="email-provider-events"),
]
