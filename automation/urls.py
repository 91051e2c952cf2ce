from django.urls import path

from automation import views

app_name = "automation"

urlpatterns = [
    path("", views.journey_list, name="journey-list"),
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/<id:pk>/done/", views.task_done, name="task-done"),
    path("<id:pk>/migrate/", views.journey_migrate, name="journey-migrate"),
    path("new/", views.journey_builder, name="journey-new"),
    path("<id:pk>/", views.journey_detail, name="journey-detail"),
    path("<id:pk>/edit/", views.journey_builder, name="journey-edit"),
    path("<id:pk>/test/", views.journey_test_start, name="journey-test"),
    path("<id:pk>/test-runs/", views.journey_test_runs, name="journey-test-runs"),
    path("<id:pk>/<slug:name>/", views.journey_action, name="journey-action"),
]
