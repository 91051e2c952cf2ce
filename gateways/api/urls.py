from aicmo_site.api.routers import ApiRouter
from gateways.api.views import ProviderAccountViewSet

router = ApiRouter()
router.include_root_view = False
router.register("providers", ProviderAccountViewSet, basename="provider-account")

urlpatterns = router.urls
