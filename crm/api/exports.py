"""Data out of the CRM through the API: CSV export, a person's data (right of access), erasure, Airtable push."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aicmo_site.api.runs import BackgroundRunSerializer
from crm.airtable_sync import airtable_sync_start
from crm.exports import contacts_csv_response
from crm.filters import ContactFilterSet
from crm.models import Contact
from crm.privacy import contact_access_export, contact_erase
from crm.selectors import contacts_visible


class ContactExportView(APIView):
    """CSV of the contacts the filters select: ?segment=ID and any contact-list filter."""

    queryset = Contact.objects.all()

    @extend_schema(parameters=[OpenApiParameter("segment", int), OpenApiParameter("tag", str),
                               OpenApiParameter("search", str)],
                   responses={(200, "text/csv"): bytes})
    def get(self, request):
        filterset = ContactFilterSet(data=request.query_params, queryset=contacts_visible())
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        return contacts_csv_response(filterset.qs, "contacts.csv")


class ContactAccessExportView(APIView):
    """Everything held about one person, as JSON (right of access)."""

    queryset = Contact.objects.all()

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        return Response(contact_access_export(get_object_or_404(Contact.objects.select_related("company"), pk=pk)))


class EraseSerializer(serializers.Serializer):
    confirm = serializers.CharField(help_text="The contact's email address, typed again")


class ContactEraseView(APIView):
    """Erases a person's data at their request (irreversible); answers the anonymous contact."""

    queryset = Contact.objects.all()
    action = "erase"
    action_permissions = {"erase": ["crm.delete_contact"]}

    @extend_schema(request=EraseSerializer, responses={200: inline_serializer("ErasedContact", {
        "id": serializers.IntegerField(), "email": serializers.CharField(), "erased_at": serializers.DateTimeField()})})
    def post(self, request, pk: int):
        data = EraseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = contact_erase(contact=get_object_or_404(Contact, pk=pk), by=request.user,
                                confirm=data.validated_data["confirm"])
        return Response({"id": contact.pk, "email": contact.email, "erased_at": contact.erased_at})


class AirtableSyncSerializer(serializers.Serializer):
    recent = serializers.BooleanField(default=False, help_text="Only contacts changed in the recent window")


class AirtableSyncView(APIView):
    """Pushes contacts and their status to Airtable now, on a worker; answers 202 with the run to follow."""

    queryset = Contact.objects.all()
    action = "sync"
    action_permissions = {"sync": ["crm.change_contact"]}

    @extend_schema(request=AirtableSyncSerializer, responses={202: BackgroundRunSerializer})
    def post(self, request):
        data = AirtableSyncSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = airtable_sync_start(by=request.user, full=not data.validated_data["recent"])
        return Response(BackgroundRunSerializer(run, context={"request": request}).data,
                        status=status.HTTP_202_ACCEPTED)
