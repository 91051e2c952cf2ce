from aicmo_site.api.routers import ApiRouter
from crm.api import data_urls
from crm.api.forms import SubscriptionFormViewSet
from crm.api.lists import ContactListViewSet
from crm.api.repositories import WatchedRepositoryViewSet
from crm.api.segment_views import EnrichmentRunViewSet, SegmentViewSet, SuppressionViewSet
from crm.api.topics import TopicViewSet
from crm.api.views import CompanyViewSet, ContactViewSet

router = ApiRouter()
router.include_root_view = False
router.register("contacts", ContactViewSet, basename="contact")
router.register("companies", CompanyViewSet, basename="company")
router.register("segments", SegmentViewSet, basename="segment")
router.register("lists", ContactListViewSet, basename="contact-list")
router.register("topics", TopicViewSet, basename="topic")
router.register("forms", SubscriptionFormViewSet, basename="subscription-form")
router.register("suppressions", SuppressionViewSet, basename="suppression")
router.register("github-repositories", WatchedRepositoryViewSet, basename="github-repository")
router.register("enrichment-runs", EnrichmentRunViewSet, basename="enrichment-run")

urlpatterns = router.urls + data_urls.urlpatterns
