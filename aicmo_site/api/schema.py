"""The OpenAPI schema documents every refusal the API can answer, each in the one error shape of
aicmo_site.api.errors, so clients (and the fuzzer in CI) can rely on the status codes."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: validation_error, not_found, locked_out…")
    message = serializers.CharField(help_text="For people")
    fields = serializers.DictField(required=False, help_text="The refused input fields, each with its reasons")
    extra = serializers.DictField(required=False, help_text="Figures behind the refusal")


_REFUSALS = {
    "400": "The input was refused (fields names each field and why)",
    "401": "No valid credentials were given",
    "403": "The user's role does not allow this",
    "404": "No such object (or page)",
    "429": "Too many requests, or log-ins locked out; extra.wait_seconds says how long to wait",
}
_WRITE_REFUSALS = {"409": "The object's current state does not allow this"}


class ApiAutoSchema(AutoSchema):
    def _get_paginator(self):
        # A custom action's list is paginated only where the action names its pagination_class (the view's
        # default is for its `list`): versions of one content or the usage of one asset come whole.
        action = getattr(self.view, "action", None)
        if action not in (None, "list"):
            handler = getattr(self.view, action, None)
            if "pagination_class" not in getattr(handler, "kwargs", {}):
                return None
        return super()._get_paginator()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        refusals = _REFUSALS if self.method in ("GET", "HEAD") else {**_REFUSALS, **_WRITE_REFUSALS}
        for code, description in refusals.items():
            if code not in responses:
                answer = OpenApiResponse(response=ErrorSerializer, description=description)
                responses[code] = self._get_response_for_code(answer, code, direction=direction)
        return responses
