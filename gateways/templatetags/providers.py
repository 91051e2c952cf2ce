"""Who may follow a link to the provider pages: pages of other apps offer "Add a sending account"
only to Admins, and tell everyone else who can."""

from django import template

from aicmo_site.roles import holds_admin_role

register = template.Library()


@register.filter
def manages_providers(user) -> bool:
    return holds_admin_role(user)
