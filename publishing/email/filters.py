"""FilterSets shared by the API, the admin and the back office."""

import django_filters

from aicmo_site.api.filters import FilterSet
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailCampaign, EmailDelivery, EmailTemplate


class EmailTemplateFilterSet(FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")

    class Meta:
        model = EmailTemplate
        fields = ["q"]


class EmailCampaignFilterSet(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=SendStatus.choices)

    class Meta:
        model = EmailCampaign
        fields = ["status", "template"]


class DeliveryFilterSet(FilterSet):
    campaign = django_filters.NumberFilter(field_name="campaign_id")
    contact = django_filters.NumberFilter(field_name="contact_id")
    status = django_filters.MultipleChoiceFilter(choices=DeliveryStatus.choices)
    email = django_filters.CharFilter(field_name="contact__email", lookup_expr="icontains")
    opened = django_filters.BooleanFilter(field_name="first_opened_at", lookup_expr="isnull", exclude=True)
    clicked = django_filters.BooleanFilter(field_name="first_clicked_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = EmailDelivery
        fields = ["campaign", "contact", "status", "variant"]
