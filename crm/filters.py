"""The contact filters, shared by the API, the back-office list and contact_list()."""

import django_filters
from django.db.models import Exists, OuterRef, Q

from aicmo_site.api.filters import FilterSet
from crm.choices import EmailStatus, EngagementTier, LifecycleStatus, ValueTier
from crm.models import Contact, ContactList, Segment, last_activity_key
from crm.segments import rules_q

# The sorts the back-office list offers (its default first); the same lists without a filter are kept numbered
# (crm.tasks.page_anchors_keep_task).
CONTACT_SORTS = (("-created_at", "Newest first"), ("created_at", "Oldest first"), ("email", "Email"),
                 ("last_name", "Last name"), ("-engagement_score", "Highest score"),
                 ("-last_activity_at", "Recently active"), ("last_activity_at", "Least recently active"),
                 ("company", "Company"))


class _StableOrderingFilter(django_filters.OrderingFilter):
    """Sorts, then breaks ties by id in the same direction: a million contacts share 101 scores, and a sort on
    the score alone let PostgreSQL return ties in any order, so numbered pages could repeat or skip people."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if not value:
            return qs
        return qs.order_by(*qs.query.order_by, "-id" if value[-1].startswith("-") else "id")

    def get_ordering_value(self, param):
        ordering = super().get_ordering_value(param)
        if ordering.lstrip("-") != "last_activity_at":
            return ordering
        descending = ordering.startswith("-")
        key = last_activity_key(descending=descending)
        return key.desc() if descending else key.asc()


class ContactFilterSet(FilterSet):
    tag = django_filters.CharFilter(method="filter_tag", label="Tag (name; several comma-separated: any of them)")
    domain = django_filters.CharFilter(method="filter_domain", label="Domain")
    # distinct=False: each filter is on the contact's own column, so no row can repeat, and a
    # DISTINCT over a million wide rows is what would make the list slow.
    lifecycle_status = django_filters.MultipleChoiceFilter(choices=LifecycleStatus.choices, label="Lifecycle",
                                                           distinct=False)
    email_status = django_filters.MultipleChoiceFilter(choices=EmailStatus.choices, label="Email status",
                                                       distinct=False)
    engagement_tier = django_filters.MultipleChoiceFilter(choices=EngagementTier.choices, label="Tier",
                                                          distinct=False)
    value_tier = django_filters.MultipleChoiceFilter(
        choices=[choice for choice in ValueTier.choices if choice[0]], label="Value tier", distinct=False)
    score_min = django_filters.NumberFilter(field_name="engagement_score", lookup_expr="gte", label="Score from")
    score_max = django_filters.NumberFilter(field_name="engagement_score", lookup_expr="lte", label="Score to")
    company = django_filters.NumberFilter(field_name="company_id", label="Company ID")
    segment = django_filters.ModelChoiceFilter(queryset=Segment.objects.all(), method="filter_segment",
                                               label="Segment")
    list = django_filters.ModelChoiceFilter(queryset=ContactList.objects.all(), method="filter_list",
                                            label="List")
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="Created from")
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="Created to")
    search = django_filters.CharFilter(method="filter_search", label="Search email, name or company")
    ordering = _StableOrderingFilter(
        fields=(("created_at", "created_at"), ("email", "email"), ("last_name", "last_name"),
                ("engagement_score", "engagement_score"), ("company__name", "company"),
                ("lifecycle_status", "lifecycle_status"), ("last_activity_at", "last_activity_at")),
        label="Sort by",
    )

    class Meta:
        model = Contact
        fields = []

    def filter_tag(self, queryset, name, value):
        names = [part.strip() for part in value.split(",") if part.strip()]
        links = Contact.tags.through.objects.filter(contact=OuterRef("pk"), tag__name__in=names)
        return queryset.filter(Exists(links)) if names else queryset

    def filter_domain(self, queryset, name, value):
        return queryset.filter(domain=value.strip().lower().lstrip("@"))

    def filter_segment(self, queryset, name, value: int):
        return queryset.filter(rules_q(value.rules)) if value else queryset

    def filter_list(self, queryset, name, value: int):
        return queryset.filter(Exists(value.memberships.filter(contact=OuterRef("pk")))) if value else queryset

    def filter_search(self, queryset, name, value):
        query = Q()
        for word in value.split()[:5]:
            query &= (Q(email__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word)
                      | Q(company__name__icontains=word))
        return queryset.filter(query)
