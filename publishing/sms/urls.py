from django.urls import path

from publishing.sms import views

urlpatterns = [
    path("sms/", views.sms_send_list, name="sms-send-list"),
    path("sms/new/", views.sms_send_new, name="sms-send-new"),
    path("sms/<id:pk>/", views.sms_send_detail, name="sms-send-detail"),
    path("sms/<id:pk>/action/", views.sms_send_action, name="sms-send-action"),
    path("sms/deliveries/<id:pk>/action/", views.sms_delivery_action, name="sms-delivery-action"),
    path("sms/status/", views.sms_status, name="sms-status"),
]
