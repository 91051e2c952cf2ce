"""Text-message campaigns: an SMS to a campaign's audience, once per contact, to those who opted in, outside
their quiet hours, through the SMS sending chain; delivery statuses from the provider's callbacks."""
