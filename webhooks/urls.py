from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.subscription_list, name="subscription-list"),
    path("<id:pk>/", views.subscription_detail, name="subscription-detail"),
    path("<id:pk>/rotate-secret/", views.subscription_rotate_secret, name="subscription-rotate-secret"),
    path("<id:pk>/toggle/", views.subscription_toggle, name="subscription-toggle"),
    path("<id:pk>/delete/", views.subscription_delete, name="subscription-delete"),
]
