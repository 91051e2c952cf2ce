from aicmo_site.api.routers import ApiRouter
from publishing.api.channel_sends import PushSendViewSet, SmsSendViewSet
from publishing.api.views import CampaignViewSet, ChannelVersionViewSet, ChannelViewSet, ContentViewSet, JobViewSet

router = ApiRouter()
router.include_root_view = False  # GET /api/ lists every app's endpoints (aicmo_site.api.root)
router.register("contents", ContentViewSet, basename="content")
router.register("versions", ChannelVersionViewSet, basename="channelversion")
router.register("channels", ChannelViewSet, basename="channel")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("jobs", JobViewSet, basename="publishingjob")
router.register("sms-sends", SmsSendViewSet, basename="smssend")
router.register("push-sends", PushSendViewSet, basename="pushsend")

urlpatterns = router.urls
urlpatterns += __import__("publishing.email.api.urls", fromlist=["urlpatterns"]).urlpatterns  # email campaigns
