from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from aicmo_site.roles import ADMIN
from aicmo_site.transitions import Via
from webhooks import selectors, services
from webhooks.api.serializers import (
    WebhookMessageSerializer,
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionSerializer,
)
from webhooks.models import WebhookMessage


class IsAdminRole(BasePermission):
    """Subscriptions send contact data to outside addresses: Admins only, reads included."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_superuser or user.groups.filter(name=ADMIN).exists()))


class WebhookSubscriptionViewSet(viewsets.ModelViewSet):
    serializer_class = WebhookSubscriptionSerializer
    permission_classes = [IsAdminRole]

    def get_queryset(self):
        return selectors.subscription_list()

    @extend_schema(responses={201: WebhookSubscriptionCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription, secret = services.subscription_create(by=request.user, **serializer.validated_data)
        subscription.secret = secret
        return Response(WebhookSubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = services.subscription_update(subscription=serializer.instance,
                                                           **serializer.validated_data)

    def perform_destroy(self, instance):
        services.subscription_delete(subscription=instance)

    @extend_schema(request=None, responses=WebhookSubscriptionCreatedSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        subscription = self.get_object()
        secret = services.subscription_rotate_secret(subscription=subscription)
        subscription.secret = secret
        return Response(WebhookSubscriptionCreatedSerializer(subscription).data)


class WebhookMessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log: each message owed to a subscription, with every attempt and its answer."""

    serializer_class = WebhookMessageSerializer
    permission_classes = [IsAdminRole]
    queryset = WebhookMessage.objects.none()
    filterset_fields = ("subscription", "status", "event")

    def get_queryset(self):
        return selectors.message_list()

    @extend_schema(request=None, responses=WebhookMessageSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        message = services.message_retry(message=self.get_object(), by=request.user, via=Via.API)
        return Response(self.get_serializer(message).data)
