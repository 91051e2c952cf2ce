from django.urls import path

from gateways import views

app_name = "gateways"

urlpatterns = [
    path("", views.provider_health, name="provider-health"),
    path("<id:pk>/probe/", views.provider_probe, name="provider-probe"),
]
