"""The back office's navigation. Each app adds its pages by listing them in `<app>/navigation.py`
as NAV_ITEMS = [("Contacts", "crm:contact-list", "crm.view_contact"), ...]."""

from importlib import import_module

from django.urls import NoReverseMatch, reverse

SECTIONS = (
    ("crm", "Contacts"),
    ("publishing", "Publishing"),
    ("media", "Media"),
    ("analytics", "Analytics"),
    ("gateways", "Providers"),
    ("webhooks", "Webhooks"),
    ("alerts", "Alerts"),
)


def _items(app: str) -> list[tuple[str, str, str | None]]:
    try:
        return list(import_module(f"{app}.navigation").NAV_ITEMS)
    except ModuleNotFoundError:
        return []


def sections_for(request) -> list[dict]:
    sections = []
    for app, title in SECTIONS:
        links = []
        for label, url_name, permission in _items(app):
            if permission and not request.user.has_perm(permission):
                continue
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                continue
            links.append({"label": label, "url": url, "active": False})
        sections.append({"app": app, "title": title, "links": links})
    # Only the link with the longest matching prefix is active: /contacts/segments/ is "Segments",
    # not also "Contacts" (/contacts/).
    matching = [link for s in sections for link in s["links"] if request.path.startswith(link["url"])]
    if matching:
        max(matching, key=lambda link: len(link["url"]))["active"] = True
    return sections
