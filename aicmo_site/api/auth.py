"""Token log-in for API clients: username and password in, a knox token out.

It authenticates through django.contrib.auth so django-axes counts failures and locks out
here exactly as on the log-in page.
"""

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.http import JsonResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from aicmo_site.api.errors import error_body
from aicmo_site.api.throttling import ScopedRateThrottle
from aicmo_site.roles import user_roles


class TokenLoginSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


def _lockout_body() -> dict:
    minutes = int(settings.AXES_COOLOFF_TIME * 60)
    return error_body(
        "locked_out", f"Too many failed log-ins: this account is locked for {minutes} minutes from this address.")


def _lockout_response():
    return Response(_lockout_body(), status=status.HTTP_429_TOO_MANY_REQUESTS)


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: django-axes answers the failure that locks an account itself, after the view;
    the API's clients get the API's error shape, people the log-in page's."""
    if request.path.startswith("/api/"):
        return JsonResponse(_lockout_body(), status=status.HTTP_429_TOO_MANY_REQUESTS)
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=status.HTTP_429_TOO_MANY_REQUESTS)


class TokenLoginView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        request=TokenLoginSerializer,
        responses={201: inline_serializer("TokenAnswer", {"token": serializers.CharField(),
                                                          "expiry": serializers.DateTimeField(allow_null=True)})},
        auth=[],
    )
    def post(self, request):
        serializer = TokenLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials = {"username": serializer.validated_data["username"]}
        if AxesProxyHandler.is_locked(request._request, credentials=credentials):
            return _lockout_response()
        user = authenticate(request._request, **serializer.validated_data)
        if getattr(request._request, "axes_locked_out", False):
            return _lockout_response()
        if user is None or not user.is_active:
            return Response(
                error_body("invalid_credentials", "Unknown username or wrong password."),
                status=status.HTTP_401_UNAUTHORIZED,
            )
        instance, token = AuthToken.objects.create(user=user)
        return Response({"token": token, "expiry": instance.expiry}, status=status.HTTP_201_CREATED)


class TokenLogoutView(APIView):
    """Revokes the token that made this request."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=inline_serializer("Me", {"username": serializers.CharField(),
                                                      "roles": serializers.ListField(child=serializers.CharField())}))
    def get(self, request):
        return Response({"username": request.user.get_username(), "roles": user_roles(request.user)})
