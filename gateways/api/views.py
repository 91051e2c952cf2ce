from dataclasses import asdict

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from aicmo_site.roles import holds_admin_role
from gateways import selectors, services
from gateways.api.filters import ProviderAccountFilterSet
from gateways.api.serializers import ProbeResultSerializer, ProviderAccountSerializer
from gateways.models import ProviderAccount


class IsAdminRole(BasePermission):
    """Provider accounts hold the keys to outside services: Admins only, reads included."""

    def has_permission(self, request, view) -> bool:
        if view.action == "health":
            return True
        return holds_admin_role(request.user)


class ProviderAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                             mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    queryset = ProviderAccount.objects.select_related("health")
    serializer_class = ProviderAccountSerializer
    filterset_class = ProviderAccountFilterSet
    search_fields = ("name", "adapter")
    ordering_fields = ("priority", "name", "capability", "updated")
    ordering = ("capability", "priority", "name")
    action_permissions = {"health": ["gateways.view_provideraccount"]}

    def get_permissions(self):
        return [*super().get_permissions(), IsAdminRole()]

    def perform_create(self, serializer):
        serializer.instance = services.account_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        credentials = data.pop("credentials", None)
        serializer.instance = services.account_update(account=serializer.instance, credentials=credentials, **data)

    def perform_destroy(self, instance):
        services.account_delete(account=instance)

    @extend_schema(request=None, responses=ProbeResultSerializer)
    @action(detail=True, methods=["post"])
    def probe(self, request, pk=None):
        outcome = services.account_probe(account=self.get_object())
        return Response(ProbeResultSerializer(asdict(outcome)).data)

    @extend_schema(responses=OpenApiResponse(description="Capabilities with their providers' stored health"))
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def health(self, request):
        return Response(selectors.health_document(selectors.health_report()))
