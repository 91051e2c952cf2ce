"""GET /api/ lists the endpoints of every app, not only those of the last router mounted at the root."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


def api_routes(patterns=None, prefix="") -> set[str]:
    """Every route under /api/ in the URL configuration, parameters written {name}."""
    found = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", str(pattern.pattern)).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            found |= api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/") and "{format}" not in route:
            found.add(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).removeprefix("api/"))
    return found


def test_root_lists_every_endpoint_of_every_app_with_its_address(api_as):
    response = api_as("Analyst").get("/api/")

    listed = response.json()
    assert response.status_code == 200
    for app_route in ("providers", "providers/health", "contacts", "contacts/{pk}", "enrichment-runs", "libraries",
                      "assets", "contents", "campaigns/{pk}/activate", "email-campaigns", "deliveries",
                      "analytics/overview", "auth/me"):
        assert app_route in listed, app_route
    assert listed["contacts"] == {"url": "http://testserver/api/contacts/", "methods": ["GET", "POST"]}
    assert listed["contacts/{pk}"]["url"] == "http://testserver/api/contacts/{pk}/"
    documented = {route.rstrip("/") for route in api_routes()} - {"", "schema", "docs"}
    assert documented - set(listed) == set(), "every route under /api/ is listed"


def test_each_listed_address_answers(api_as):
    admin = api_as("Admin")
    listed = admin.get("/api/").json()

    for path, endpoint in listed.items():
        if "{" not in path and "GET" in endpoint["methods"]:
            response = admin.get(endpoint["url"])
            # A report that needs its parameters says which, in the API's error format.
            assert response.status_code == 200 or (response.status_code == 400 and response.json()["code"]), path


def test_root_needs_a_signed_in_user(client):
    assert client.get("/api/").status_code == 401
