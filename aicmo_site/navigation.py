"""The back office's navigation. Each app adds its pages by listing them in `<app>/navigation.py`
as NAV_ITEMS = [("Contacts", "crm:contact-list", "crm.view_contact"), ...]; a permission may be a tuple
(any of them will do). An app may count work waiting behind a link with NAV_BADGES = {url_name: count(user)},
shown as a badge when above zero."""

from importlib import import_module

from django.urls import NoReverseMatch, reverse

SECTIONS = (
    ("crm", "Contacts"),
    ("publishing", "Publishing"),
    ("automation", "Journeys"),
    ("media", "Media"),
    ("analytics", "Analytics"),
    ("gateways", "Providers"),
    ("webhooks", "Webhooks"),
    ("alerts", "Alerts"),
    ("aicmo_site", "Background work"),
)
# The site's own pages; every role may follow the background work, Admins read the audit log and set
# how long data is kept.
NAV_ITEMS = [("Background work", "run-list", "aicmo_site.view_backgroundrun"),
             ("Audit log", "audit-list", "auditlog.view_logentry"),
             ("Data retention", "retention", "aicmo_site.change_retentionpolicy")]


def _allowed(user, permission) -> bool:
    if not permission:
        return True
    if isinstance(permission, tuple):
        return any(user.has_perm(p) for p in permission)
    return user.has_perm(permission)


def sections_for(request) -> list[dict]:
    sections = []
    for app, title in SECTIONS:
        module = import_module(f"{app}.navigation")
        badges = getattr(module, "NAV_BADGES", {})
        links = []
        for label, url_name, permission in getattr(module, "NAV_ITEMS", []):
            if not _allowed(request.user, permission):
                continue
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                continue
            badge = badges[url_name](request.user) if url_name in badges else 0
            links.append({"label": label, "url": url, "active": False, "badge": badge})
        sections.append({"app": app, "title": title, "links": links})
    # Only the link with the longest matching prefix is active: /contacts/segments/ is "Segments",
    # not also "Contacts" (/contacts/).
    matching = [link for s in sections for link in s["links"] if request.path.startswith(link["url"])]
    if matching:
        max(matching, key=lambda link: len(link["url"]))["active"] = True
    return sections
