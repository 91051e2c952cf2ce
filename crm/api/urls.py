from rest_framework.routers import DefaultRouter

from crm.api import data_urls

router = DefaultRouter(trailing_slash=True)

urlpatterns = router.urls + data_urls.urlpatterns
