from django.urls import path

from media import views

app_name = "media"

urlpatterns = [
    path("", views.asset_grid, name="asset-grid"),
    path("upload/", views.asset_upload, name="asset-upload"),
    path("bulk/", views.asset_bulk, name="asset-bulk"),
    path("<int:pk>/", views.asset_detail, name="asset-detail"),
    path("<int:pk>/original/", views.asset_original, name="asset-original"),
    path("<int:pk>/renditions/", views.asset_renditions, name="asset-renditions"),
    path("<int:pk>/review/", views.asset_review, name="asset-review"),
    path("<int:pk>/focal-point/", views.asset_focal_point, name="asset-focal-point"),
    path("<int:pk>/delete/", views.asset_delete, name="asset-delete"),
]
