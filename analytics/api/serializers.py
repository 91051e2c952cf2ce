import datetime as dt

from django.utils import timezone
from rest_framework import serializers

from aicmo_site.api.fields import DateField, ModelSerializer
from analytics.models import ContactScore
from analytics.reports import ATTRIBUTION_MODELS, METRICS
from analytics.reports.cohorts import GROUPINGS
from analytics.reports.repositories import REPOSITORY_METRICS
from analytics.reports.trends import HOURLY_METRICS, HOURLY_MOST_DAYS, INTERVALS
from crm.models import WatchedRepository

DEFAULT_PERIOD_DAYS = 30


class PeriodSerializer(serializers.Serializer):
    """start and end dates in the team's time zone; by default the last 30 days."""

    start = DateField(required=False)
    end = DateField(required=False)

    def validate(self, attrs):
        end = attrs.get("end") or timezone.localdate()
        start = attrs.get("start") or end - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        if start > end:
            raise serializers.ValidationError({"end": "The period ends before it starts."})
        if (end - start).days > 3660:
            raise serializers.ValidationError({"start": "A period can span at most ten years."})
        return {**attrs, "start": start, "end": end}


class AnomalyPeriodSerializer(PeriodSerializer):
    """As PeriodSerializer, at most a year by day and a month by hour: each day or hour is judged against
    the eight weeks before it."""

    resolution = serializers.ChoiceField(choices=["day", "hour"], default="day",
                                         help_text="Judge daily figures, or hourly ones (hour of the week).")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if (attrs["end"] - attrs["start"]).days > 366:
            raise serializers.ValidationError({"start": "Unusual days are looked for over a year at most."})
        if attrs.get("resolution") == "hour" and (attrs["end"] - attrs["start"]).days > 31:
            raise serializers.ValidationError({"start": "Unusual hours are looked for over a month at most."})
        return attrs


class ChannelRankingQuerySerializer(PeriodSerializer):
    metric = serializers.ChoiceField(choices=sorted(METRICS), default="click_through_rate")
    min_sample = serializers.IntegerField(required=False, min_value=0)


class TrendQuerySerializer(PeriodSerializer):
    metric = serializers.ChoiceField(choices=sorted(set(METRICS) - {"reach", "unique_opens", "cost_per_contact"}))
    interval = serializers.ChoiceField(choices=INTERVALS, default="day",
                                       help_text=f"By hour: {HOURLY_MOST_DAYS} days at most, and only the metrics "
                                                 f"the hourly roll-up holds ({', '.join(HOURLY_METRICS)}).")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("interval") == "hour":
            if (attrs["end"] - attrs["start"]).days >= HOURLY_MOST_DAYS:
                raise serializers.ValidationError({"interval": f"A trend by hour spans {HOURLY_MOST_DAYS} days at "
                                                               "most: shorten the period or choose by day."})
            if attrs["metric"] not in HOURLY_METRICS:
                raise serializers.ValidationError({"metric": "This metric has no hourly figures (it needs the "
                                                             "channels' daily snapshots): choose by day."})
        return attrs


class RepositoryTrendQuerySerializer(PeriodSerializer):
    repository = serializers.PrimaryKeyRelatedField(queryset=WatchedRepository.objects.all(),
                                                    help_text="A watched GitHub repository")
    metric = serializers.ChoiceField(choices=list(REPOSITORY_METRICS), default="stars")


class CohortQuerySerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=GROUPINGS, default="month")
    months = serializers.IntegerField(min_value=1, max_value=24, default=6)


class AttributionQuerySerializer(PeriodSerializer):
    model = serializers.ChoiceField(choices=ATTRIBUTION_MODELS, default="last_touch")
    lookback_days = serializers.IntegerField(required=False, min_value=1, max_value=365)
    half_life_days = serializers.FloatField(required=False, min_value=0.1, max_value=365)


class CampaignReportQuerySerializer(serializers.Serializer):
    start = DateField(required=False)
    end = DateField(required=False)


class CompareQuerySerializer(CampaignReportQuerySerializer):
    ids = serializers.CharField(help_text="Comma-separated campaign ids")

    def validate_ids(self, value):
        try:
            ids = [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise serializers.ValidationError("Give campaign ids as numbers separated by commas.")
        if not 1 <= len(ids) <= 10:
            raise serializers.ValidationError("Compare between 1 and 10 campaigns.")
        return ids


class ContactScoreSerializer(ModelSerializer):
    email = serializers.EmailField(source="contact.email", read_only=True)
    name = serializers.SerializerMethodField()

    class Meta:
        model = ContactScore
        fields = ["contact", "email", "name", "score", "tier", "points", "lifetime_value", "computed_at"]

    def get_name(self, obj) -> str:
        return f"{obj.contact.first_name} {obj.contact.last_name}".strip()
