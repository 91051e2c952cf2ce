"""The public feeds at the short addresses feed readers are given (/feeds/<slug>.rss), included by the
site's URL configuration so that it names no module of publishing."""

from django.urls import path

from publishing import feeds

urlpatterns = [
    path("<slug:slug>.rss", feeds.ChannelRssFeed(), name="feed-rss"),
    path("<slug:slug>.atom", feeds.ChannelAtomFeed(), name="feed-atom"),
]
