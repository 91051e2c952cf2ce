from django.urls import path

from gateways import views

app_name = "gateways"

urlpatterns = [
    path("", views.provider_health, name="provider-health"),
    path("new/", views.provider_new, name="provider-new"),
    path("new/<slug:adapter>/", views.provider_create, name="provider-create"),
    path("<id:pk>/edit/", views.provider_edit, name="provider-edit"),
    path("<id:pk>/enabled/", views.provider_enable, name="provider-enable"),
    path("<id:pk>/probe/", views.provider_probe, name="provider-probe"),
]
