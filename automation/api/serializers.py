from rest_framework import serializers

from aicmo_site.api.actions import AvailableActionsField
from automation.choices import ReEntry, StepKind
from automation.models import Journey, JourneyStep, Task


class JourneyStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = JourneyStep
        fields = ("key", "kind", "config", "next", "other")


class StepInputSerializer(serializers.Serializer):
    """Only the shape: the graph's rules are the service's (automation.services.graph)."""

    key = serializers.CharField(max_length=40)
    kind = serializers.ChoiceField(choices=StepKind.choices)
    config = serializers.DictField(required=False, default=dict)
    next = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    other = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class JourneySerializer(serializers.ModelSerializer):
    steps = JourneyStepSerializer(many=True, read_only=True)
    available_actions = AvailableActionsField()

    class Meta:
        model = Journey
        fields = ("id", "name", "description", "status", "version", "reentry", "entry_triggers", "exit_triggers",
                  "goal", "steps", "available_actions", "activated_at", "created_at", "updated_at")
        read_only_fields = fields


class JourneyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    reentry = serializers.ChoiceField(choices=ReEntry.choices, required=False, default=ReEntry.ONCE_EVER)
    entry_triggers = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    exit_triggers = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    goal = serializers.DictField(required=False, default=dict)
    steps = StepInputSerializer(many=True)


class StepsInputSerializer(serializers.Serializer):
    steps = StepInputSerializer(many=True)


class ContactsInputSerializer(serializers.Serializer):
    contact_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=10000)


class ContactInputSerializer(serializers.Serializer):
    contact_id = serializers.IntegerField(min_value=1)


class StepStatsSerializer(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.CharField()
    on_step = serializers.IntegerField(help_text="Contacts on this step now (due or waiting)")
    went_through = serializers.IntegerField()
    outcomes = serializers.DictField(child=serializers.IntegerField())
    reached = serializers.IntegerField(help_text="Contacts who reached this step (test runs left out)")
    conversion = serializers.FloatField(allow_null=True, help_text="Share who went on from it, in %; null: none "
                                                                   "reached it yet, or an exit")
    branch_shares = serializers.DictField(child=serializers.FloatField(allow_null=True), allow_null=True,
                                          help_text="A condition's yes/no or a split's first/second share, in %")
    median_time = serializers.DurationField(allow_null=True, help_text="Median time to the next step")


class VersionStatsSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    on_the_way = serializers.IntegerField(help_text="Contacts on a step of this version now")


class MigratedSerializer(serializers.Serializer):
    migrated = serializers.IntegerField()


class JourneyStatsSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version new entrants start on")
    versions = VersionStatsSerializer(many=True)
    on_the_way = serializers.IntegerField()
    finished = serializers.IntegerField()
    goal_reached = serializers.IntegerField()
    left = serializers.IntegerField()
    steps = StepStatsSerializer(many=True)


class TaskSerializer(serializers.ModelSerializer):
    contact_email = serializers.CharField(source="contact.email", read_only=True)
    journey = serializers.CharField(source="step.journey.name", read_only=True, default="")

    class Meta:
        model = Task
        fields = ("id", "title", "contact", "contact_email", "assignee", "due_on", "done", "done_at", "journey",
                  "created_at")
        read_only_fields = fields
