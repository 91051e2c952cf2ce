from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("campaigns/<id:campaign_id>/", views.campaign, name="campaign"),
    path("compare/", views.compare, name="compare"),
    path("contacts/<id:contact_id>/", views.contact_score, name="contact"),
    path("channels/", views.channels, name="channels"),
    path("trends/", views.trends, name="trends"),
    path("cohorts/", views.cohorts, name="cohorts"),
    path("attribution/", views.attribution, name="attribution"),
    path("scores/", views.scores, name="scores"),
    path("best-times/", views.best_times, name="best-times"),
    path("github/", views.github, name="github"),
]
