"""The email pages: tracking and provider callbacks, the preference centre, and the back-office pages of
sends and templates (mounted by publishing.email.urls)."""
