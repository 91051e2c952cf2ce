from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.subscription_list, name="subscription-list"),
    path("<int:pk>/", views.subscription_detail, name="subscription-detail"),
    path("<int:pk>/rotate-secret/", views.subscription_rotate_secret, name="subscription-rotate-secret"),
    path("<int:pk>/toggle/", views.subscription_toggle, name="subscription-toggle"),
    path("<int:pk>/delete/", views.subscription_delete, name="subscription-delete"),
]
