"""Settings of web-push sends, overridable in Django settings (tests) or the environment."""

from publishing.channel_sends import quiet_hours_setting


def quiet_hours() -> tuple[int, int]:
    """(start, end) local hours between which no notification is pushed, in the contact's time zone (the
    team's for a browser with no contact): PUSH_QUIET_HOURS_START and _END, 21 to 9 as for SMS, since a
    notification lights up a phone by the bed as a text does."""
    return quiet_hours_setting("PUSH")
