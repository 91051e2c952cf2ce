"""One error format for the whole API:

    {"code": "validation_error", "message": "…", "fields": {"email": ["…"]}, "extra": {…}}

`fields` appears for input errors, `extra` when the service gave figures behind the refusal.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from aicmo_site.errors import DomainError


def error_body(code: str, message: str, *, fields=None, extra=None) -> dict:
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    if extra:
        body["extra"] = extra
    return body


def _django_validation_fields(error: DjangoValidationError) -> dict:
    if hasattr(error, "error_dict"):
        return {field: [str(m) for e in errors for m in e.messages] for field, errors in error.error_dict.items()}
    return {"non_field_errors": [str(m) for m in error.messages]}


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, extra=exc.extra), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = _django_validation_fields(exc)
        return Response(
            error_body("validation_error", "Some fields are invalid.", fields=fields),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = _flatten(exc.detail)
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = error_body("validation_error", "Some fields are invalid.", fields=fields)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        message = str(detail) if not isinstance(detail, (dict, list)) else "Request refused."
        code = getattr(exc, "default_code", "error")
        if isinstance(exc, exceptions.APIException) and hasattr(exc, "get_codes"):
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else code
        extra = {"wait_seconds": exc.wait} if isinstance(exc, exceptions.Throttled) and exc.wait else None
        response.data = error_body(code, message, extra=extra)
    return response
