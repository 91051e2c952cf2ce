"""Email campaigns: templates, exactly-once sending, tracking, unsubscribe, bounces and A/B tests."""
