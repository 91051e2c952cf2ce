from aicmo_site.navigation import sections_for


def navigation(request):
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    return {"nav_sections": sections_for(request)}
