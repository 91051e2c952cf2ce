"""The buttons of an object in a list, from its workflow: `{% with actions=job|actions_for:user %}`."""

from django import template

from aicmo_site.transitions import available_action_names

register = template.Library()


@register.filter
def actions_for(obj, user) -> list[str]:
    # Permissions are cached on the user, so a list of objects asks the database nothing more.
    return available_action_names(obj, user)
