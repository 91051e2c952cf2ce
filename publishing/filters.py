"""FilterSets shared by the API, the back office and the selectors."""

import django_filters
from django.db.models import Q

from aicmo_site.api.filters import FilterSet
from publishing.choices import CampaignStatus, ContentKind, ContentStatus, JobStatus
from publishing.models import Campaign, Channel, Content, PublishingJob


class SearchMixin(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    search_fields: tuple[str, ...] = ()

    def search(self, queryset, name, value):
        query = Q()
        for field in self.search_fields:
            query |= Q(**{f"{field}__icontains": value})
        return queryset.filter(query)


class ContentFilterSet(SearchMixin):
    status = django_filters.MultipleChoiceFilter(choices=ContentStatus.choices)
    kind = django_filters.ChoiceFilter(choices=ContentKind.choices)
    author = django_filters.NumberFilter(field_name="author_id")
    ordering = django_filters.OrderingFilter(fields=("title", "updated_at", "created_at", "status"))
    search_fields = ("title", "summary", "body")

    class Meta:
        model = Content
        fields = ["status", "kind", "author"]


class CampaignFilterSet(SearchMixin):
    status = django_filters.MultipleChoiceFilter(choices=CampaignStatus.choices)
    ordering = django_filters.OrderingFilter(fields=("name", "starts_at", "created_at", "status"))
    search_fields = ("name", "description")

    class Meta:
        model = Campaign
        fields = ["status"]


class JobFilterSet(SearchMixin):
    status = django_filters.MultipleChoiceFilter(choices=JobStatus.choices)
    channel = django_filters.NumberFilter(field_name="channel_id")
    campaign = django_filters.NumberFilter(field_name="campaign_id")
    content = django_filters.NumberFilter(field_name="content_id")
    date_from = django_filters.DateFilter(field_name="scheduled_at", lookup_expr="date__gte", label="From")
    date_to = django_filters.DateFilter(field_name="scheduled_at", lookup_expr="date__lte", label="To")
    ordering = django_filters.OrderingFilter(fields=("scheduled_at", "published_at", "status", "attempts"))
    search_fields = ("content__title", "channel__name", "campaign__name", "error_message")

    class Meta:
        model = PublishingJob
        fields = ["status", "channel", "campaign", "content"]


class ChannelFilterSet(SearchMixin):
    search_fields = ("name", "slug")

    class Meta:
        model = Channel
        fields = ["kind", "active"]
