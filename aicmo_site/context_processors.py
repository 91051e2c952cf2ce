from aicmo_site.navigation import sections_for


def navigation(request):
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    # Computed once per request however many templates render with it (the badges cost a query).
    if not hasattr(request, "_navigation"):
        sections = sections_for(request)
        waiting = sum(link["badge"] for section in sections for link in section["links"])
        request._navigation = {"nav_sections": sections, "nav_waiting": waiting}
    return request._navigation
