"""Topics people can follow. Reads are a filtered viewset; every change calls a crm service."""

from rest_framework import serializers, viewsets

from aicmo_site.api.fields import ModelSerializer
from crm import services
from crm.models import Topic


class TopicSerializer(ModelSerializer):
    slug = serializers.SlugField(max_length=60, required=False, allow_blank=True,
                                 help_text="Empty: made from the name")

    class Meta:
        model = Topic
        fields = ("id", "name", "slug", "description", "public")
        # Uniqueness is the service's to check (the slug may be made from the name).
        extra_kwargs = {"name": {"validators": []}}


class TopicViewSet(viewsets.ModelViewSet):
    """Topics of interest; `public` ones are offered in the email preference centre. Filter: public."""

    queryset = Topic.objects.all()
    serializer_class = TopicSerializer
    filterset_fields = ("public",)
    search_fields = ("name", "slug", "description")
    ordering_fields = ("name", "slug")

    def perform_create(self, serializer):
        serializer.instance = services.topic_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.topic_update(topic=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.topic_delete(topic=instance)
