from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from aicmo_site.roles import roles_sync

    roles_sync()


class AicmoSiteConfig(AppConfig):
    name = "aicmo_site"
    verbose_name = "AICMO"

    def ready(self):
        from django.urls import register_converter

        from aicmo_site.api.routers import IdConverter

        register_converter(IdConverter, "id")
        # After every migrate, so permissions of models added since are given to the roles.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="aicmo_roles_sync")
