from django.urls import path

from media import views

app_name = "media"

urlpatterns = [
    path("", views.asset_grid, name="asset-grid"),
    path("upload/", views.asset_upload, name="asset-upload"),
    path("bulk/", views.asset_bulk, name="asset-bulk"),
    path("<id:pk>/", views.asset_detail, name="asset-detail"),
    path("<id:pk>/original/", views.asset_original, name="asset-original"),
    path("<id:pk>/renditions/", views.asset_renditions, name="asset-renditions"),
    path("<id:pk>/review/", views.asset_review, name="asset-review"),
    path("<id:pk>/focal-point/", views.asset_focal_point, name="asset-focal-point"),
    path("<id:pk>/delete/", views.asset_delete, name="asset-delete"),
]
