"""The actions a person may take on an object, as the API shows them: the same list the pages draw their
buttons from and the services check (`aicmo_site.transitions.available_actions`)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aicmo_site.transitions import available_action_names


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class AvailableActionsField(serializers.Field):
    """Read-only: the names of the workflow's actions the requesting person may take on the object now
    (none without a request, e.g. a serializer used outside a view)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value) -> list[str]:
        request = self.context.get("request")
        return available_action_names(value, request.user) if request is not None else []
