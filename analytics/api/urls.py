from django.urls import path

from analytics.api import views

urlpatterns = [
    path("analytics/overview/", views.OverviewView.as_view(), name="analytics-overview"),
    path("analytics/campaigns/", views.CampaignCompareView.as_view(), name="analytics-campaigns"),
    path("analytics/campaigns/<id:campaign_id>/", views.CampaignReportView.as_view(), name="analytics-campaign"),
    path("analytics/channels/", views.ChannelRankingView.as_view(), name="analytics-channels"),
    path("analytics/anomalies/", views.AnomaliesView.as_view(), name="analytics-anomalies"),
    path("analytics/trends/", views.TrendView.as_view(), name="analytics-trends"),
    path("analytics/github/", views.RepositoryTrendView.as_view(), name="analytics-github"),
    path("analytics/cohorts/", views.CohortView.as_view(), name="analytics-cohorts"),
    path("analytics/attribution/", views.AttributionView.as_view(), name="analytics-attribution"),
    path("analytics/best-times/email/", views.EmailBestTimesView.as_view(), name="analytics-email-best-times"),
    path("analytics/best-times/<id:channel_id>/", views.BestTimesView.as_view(), name="analytics-best-times"),
    path("analytics/scores/", views.ContactScoreListView.as_view(), name="analytics-scores"),
    path("analytics/rebuild/", views.RollupRebuildView.as_view(), name="analytics-rebuild"),
    path("analytics/scores/recompute/", views.ScoresRecomputeView.as_view(), name="analytics-scores-recompute"),
    path("analytics/scores/<id:contact_id>/recompute/", views.ContactScoreRecomputeView.as_view(),
         name="analytics-score-recompute"),
]
