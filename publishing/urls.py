from django.urls import path

from publishing import campaign_pages, feeds, views

app_name = "publishing"

urlpatterns = [
    path("", views.content_list, name="content-list"),
    path("content/new/", views.content_edit, name="content-create"),
    path("content/<int:pk>/", views.content_detail, name="content-detail"),
    path("content/<int:pk>/edit/", views.content_edit, name="content-edit"),
    path("content/<int:pk>/action/", views.content_action, name="content-action"),
    path("content/<int:pk>/versions/", views.versions_generate_view, name="content-versions"),
    path("versions/<int:pk>/edit/", views.version_edit, name="version-edit"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/new/", campaign_pages.campaign_new, name="campaign-create"),
    path("campaigns/audience-size/", campaign_pages.campaign_audience_size, name="campaign-audience-size"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", campaign_pages.campaign_edit, name="campaign-edit"),
    path("campaigns/<int:pk>/review/", campaign_pages.campaign_review, name="campaign-review"),
    path("campaigns/<int:pk>/duplicate/", campaign_pages.campaign_duplicate, name="campaign-duplicate"),
    path("campaigns/<int:pk>/action/", views.campaign_action, name="campaign-action"),
    path("jobs/<int:pk>/action/", views.job_action, name="job-action"),
    path("calendar/", views.calendar, name="calendar"),
    path("p/<slug:slug>/", views.public_content, name="public-content"),
    # Mounted at /feeds/ too by the site's urls (see the report to the lead).
    path("feeds/<slug:slug>.rss", feeds.ChannelRssFeed(), name="feed-rss"),
    path("feeds/<slug:slug>.atom", feeds.ChannelAtomFeed(), name="feed-atom"),
]
