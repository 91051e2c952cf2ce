from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_list, name="alert-list"),
    path("channels/", views.channel_create, name="channel-create"),
    path("channels/<id:pk>/delete/", views.channel_delete, name="channel-delete"),
    path("rules/<str:key>/", views.rule_update, name="rule-update"),
]
