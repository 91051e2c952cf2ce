from django.urls import path

from automation import views

app_name = "automation"

urlpatterns = [
    path("", views.journey_list, name="journey-list"),
    path("<id:pk>/", views.journey_detail, name="journey-detail"),
    path("<id:pk>/migrate/", views.journey_migrate, name="journey-migrate"),
    path("<id:pk>/<slug:name>/", views.journey_action, name="journey-action"),
]
