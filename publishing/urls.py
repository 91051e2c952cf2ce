from django.urls import path

from publishing import calendar_pages, campaign_pages, check_settings, feeds, inbox, media_picker, views

app_name = "publishing"

urlpatterns = [
    path("", views.content_list, name="content-list"),
    path("approvals/", inbox.inbox, name="inbox"),
    path("approvals/content/<id:pk>/", inbox.inbox_content_decide, name="inbox-content-decide"),
    path("approvals/assets/<id:pk>/", inbox.inbox_asset_decide, name="inbox-asset-decide"),
    path("checks/blocking/", check_settings.blocking_checks, name="blocking-checks"),
    path("content/new/", views.content_edit, name="content-create"),
    path("content/preview/", views.content_preview, name="content-preview"),
    path("content/media-picker/", media_picker.media_picker, name="media-picker"),
    path("content/<id:pk>/", views.content_detail, name="content-detail"),
    path("content/<id:pk>/edit/", views.content_edit, name="content-edit"),
    path("content/<id:pk>/action/", views.content_action, name="content-action"),
    path("content/<id:pk>/versions/", views.versions_generate_view, name="content-versions"),
    path("content/<id:pk>/check-links/", views.content_check_links, name="content-check-links"),
    path("content/<id:pk>/analyse/", views.content_analyse, name="content-analyse"),
    path("versions/<id:pk>/edit/", views.version_edit, name="version-edit"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/new/", campaign_pages.campaign_new, name="campaign-create"),
    path("campaigns/audience-size/", campaign_pages.campaign_audience_size, name="campaign-audience-size"),
    path("campaigns/<id:pk>/", views.campaign_detail, name="campaign-detail"),
    path("campaigns/<id:pk>/edit/", campaign_pages.campaign_edit, name="campaign-edit"),
    path("campaigns/<id:pk>/review/", campaign_pages.campaign_review, name="campaign-review"),
    path("campaigns/<id:pk>/duplicate/", campaign_pages.campaign_duplicate, name="campaign-duplicate"),
    path("campaigns/<id:pk>/action/", views.campaign_action, name="campaign-action"),
    path("campaigns/<id:pk>/weather-hold/", campaign_pages.campaign_weather_hold, name="campaign-weather-hold"),
    path("jobs/<id:pk>/action/", views.job_action, name="job-action"),
    path("jobs/<id:pk>/reschedule/", calendar_pages.job_reschedule, name="job-reschedule"),
    path("calendar/", calendar_pages.calendar, name="calendar"),
    path("p/<slug:slug>/", views.public_content, name="public-content"),
    # Mounted at /feeds/ too by the site's urls (see the report to the lead).
    path("feeds/<slug:slug>.rss", feeds.ChannelRssFeed(), name="feed-rss"),
    path("feeds/<slug:slug>.atom", feeds.ChannelAtomFeed(), name="feed-atom"),
]
