from django.apps import AppConfig


class AutomationConfig(AppConfig):
    """Journeys: contacts carried step by step through waits, conditions and actions. Between
    publishing (whose email sender it feeds) and analytics (which reports on it)."""

    name = "automation"
    verbose_name = "Automation"

    def ready(self):
        from automation.selectors import journeys_active_choices
        from automation.tasks import (
            on_contacts_imported,
            on_event_recorded,
            on_events_recorded,
            on_tags_adding,
            on_tags_watched,
        )
        from crm.imports.followups import contacts_imported, journeys_offer
        from crm.models import ImportRun, Tag
        from crm.services.engagement import event_recorded, events_recorded
        from crm.tagging import tags_adding, tags_watched

        event_recorded.connect(on_event_recorded, dispatch_uid="automation-event-waits")
        events_recorded.connect(on_events_recorded, dispatch_uid="automation-events-waits")
        tags_adding.connect(on_tags_adding, sender=Tag, dispatch_uid="automation-tag-entries")
        tags_watched.connect(on_tags_watched, sender=Tag, dispatch_uid="automation-tag-triggers")
        contacts_imported.connect(on_contacts_imported, sender=ImportRun, dispatch_uid="automation-import-entries")
        journeys_offer(journeys_active_choices)
