"""Web-push campaigns: a notification to the browsers of a campaign's audience that subscribed, once per
browser, through each browser's push service; a subscription its service says is gone is removed."""
