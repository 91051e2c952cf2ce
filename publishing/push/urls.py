from django.urls import path

from publishing.push import views

urlpatterns = [
    path("push/", views.push_send_list, name="push-send-list"),
    path("push/new/", views.push_send_new, name="push-send-new"),
    path("push/<id:pk>/", views.push_send_detail, name="push-send-detail"),
    path("push/<id:pk>/action/", views.push_send_action, name="push-send-action"),
]
