"""Roles are derived from rules over every app's permissions; these tests run the rules on real
permission rows (django_q's models stand in for a domain app, and a custom approve_ permission)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import include, path
from django_q.models import Schedule
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.test import APIClient

from aicmo_site import roles


@pytest.fixture
def domain_like(monkeypatch):
    """Treat django_q as a domain app editable by Marketers, with an approval permission."""
    monkeypatch.setattr(roles, "DOMAIN_APPS", ("django_q",))
    monkeypatch.setattr(roles, "MARKETER_APPS", ("django_q",))
    Permission.objects.create(
        codename="approve_schedule", name="Can approve schedule",
        content_type=ContentType.objects.get_for_model(Schedule),
    )
    roles.roles_sync()


def codenames(role):
    return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))


@pytest.mark.django_db
def test_analyst_reads_only(domain_like):
    assert codenames("Analyst") >= {"view_schedule", "view_task"}
    assert not any(c.startswith(("add_", "change_", "delete_", "approve_")) for c in codenames("Analyst"))


@pytest.mark.django_db
def test_marketer_edits_but_cannot_approve(domain_like):
    assert {"add_schedule", "change_schedule", "delete_schedule", "view_schedule"} <= codenames("Marketer")
    assert "approve_schedule" not in codenames("Marketer")


@pytest.mark.django_db
def test_approver_reads_and_approves_but_does_not_edit(domain_like):
    assert {"approve_schedule", "view_schedule"} <= codenames("Approver")
    assert "change_schedule" not in codenames("Approver")


@pytest.mark.django_db
def test_admin_holds_every_permission(domain_like):
    assert Group.objects.get(name="Admin").permissions.count() == Permission.objects.count()


@pytest.mark.django_db
def test_roles_sync_is_idempotent(domain_like):
    before = {role: codenames(role) for role in roles.ROLES}
    roles.roles_sync()
    assert {role: codenames(role) for role in roles.ROLES} == before


class ScheduleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Schedule
        fields = ["id", "name", "func"]


class ScheduleViewSet(viewsets.ModelViewSet):
    queryset = Schedule.objects.order_by("id")
    serializer_class = ScheduleSerializer
    action_permissions = {"approve": ["django_q.approve_schedule"]}

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return Response({"approved": self.get_object().pk})


router = SimpleRouter()
router.register("schedules", ScheduleViewSet)
urlpatterns = [path("api/", include(router.urls))]


def client_for(make_user, role):
    client = APIClient()
    client.force_authenticate(make_user(f"u-{role}", role=role))
    return client


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("role", "read", "create", "approve"),
    [
        ("Analyst", 200, 403, 403),
        ("Marketer", 200, 201, 403),
        ("Approver", 200, 403, 200),
        ("Admin", 200, 201, 200),
        (None, 403, 403, 403),
    ],
)
def test_api_checks_role_permissions(domain_like, make_user, role, read, create, approve):
    schedule = Schedule.objects.create(name="nightly", func="math.floor")
    client = client_for(make_user, role)
    assert client.get("/api/schedules/").status_code == read
    assert client.post("/api/schedules/", {"name": "x", "func": "math.ceil"}).status_code == create
    assert client.post(f"/api/schedules/{schedule.pk}/approve/").status_code == approve


@pytest.mark.django_db
def test_every_role_reaches_the_admin_limited_by_its_permissions(client, django_user_model):
    from aicmo_site.roles import user_role_assign

    analyst = django_user_model.objects.create_user("ana-admin", password="pw-123456!")
    user_role_assign(user=analyst, role="Analyst")
    client.force_login(analyst)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403
    with pytest.raises(ValueError, match="Unknown role"):
        user_role_assign(user=analyst, role="Wizard")
