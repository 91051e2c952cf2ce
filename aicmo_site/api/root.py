"""GET /api/: every endpoint of every app, found in the URL configuration itself, so an app's new
route shows here without being listed twice (a router's own root would list only its app's)."""

from functools import cache

from drf_spectacular.generators import EndpointEnumerator
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

API_PREFIX = "/api/"


@cache
def api_endpoints() -> dict[str, list[str]]:
    """Each path under /api/ ("contacts/{pk}/") with its methods, in path order. The URL
    configuration does not change while the process runs."""
    endpoints: dict[str, list[str]] = {}
    for path, _regex, method, _view in EndpointEnumerator().get_api_endpoints():
        if path.startswith(API_PREFIX) and path != API_PREFIX:
            endpoints.setdefault(path.removeprefix(API_PREFIX), []).append(method)
    return dict(sorted(endpoints.items()))


class ApiRootView(APIView):
    """Every API endpoint: its path (parameters in braces), full address and methods."""

    @extend_schema(exclude=True)
    def get(self, request):
        root = reverse("api-root", request=request)
        return Response({path.rstrip("/"): {"url": f"{root}{path}", "methods": methods}
                         for path, methods in api_endpoints().items()})
