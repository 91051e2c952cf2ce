"""Hooks each domain app may offer by module name, looked up in dependency order.

publishing.email offers its own (selectors, demo, schedules) like an app, after publishing's: it is a
package of the publishing app that builds on publishing, so publishing's modules cannot gather its hooks
without an import cycle."""

from importlib import import_module
from types import ModuleType

DOMAIN_APPS_IN_ORDER = (
    "gateways", "webhooks", "crm", "media", "publishing", "publishing.email", "publishing.sms", "publishing.push",
    "automation", "analytics", "alerts",
)


def app_modules(module_name: str) -> list[tuple[str, ModuleType]]:
    found = []
    for app in DOMAIN_APPS_IN_ORDER:
        try:
            found.append((app, import_module(f"{app}.{module_name}")))
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.{module_name}":
                raise
    return found
