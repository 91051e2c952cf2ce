from django.urls import path

from automation import views

app_name = "automation"

urlpatterns = [
    path("", views.journey_list, name="journey-list"),
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/<id:pk>/done/", views.task_done, name="task-done"),
    path("<id:pk>/", views.journey_detail, name="journey-detail"),
    path("<id:pk>/migrate/", views.journey_migrate, name="journey-migrate"),
    path("<id:pk>/<slug:name>/", views.journey_action, name="journey-action"),
]
