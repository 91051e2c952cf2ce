from rest_framework.routers import DefaultRouter

from gateways.api.views import ProviderAccountViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("providers", ProviderAccountViewSet, basename="provider-account")

urlpatterns = router.urls
