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
        self._connect_audit_log()
        self._connect_task_query_log_reset()
        # After every migrate, so permissions of models added since are given to the roles.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="aicmo_roles_sync")

    @staticmethod
    def _connect_audit_log():
        from auditlog.models import LogEntry
        from django.db.models.signals import pre_save
        from django_q.signals import post_execute, pre_execute

        from aicmo_site.audit import entry_stamp, task_finished, task_started

        pre_save.connect(entry_stamp, sender=LogEntry, dispatch_uid="aicmo_audit_entry_stamp")
        pre_execute.connect(task_started, dispatch_uid="aicmo_audit_task_started")
        post_execute.connect(task_finished, dispatch_uid="aicmo_audit_task_finished")

    @staticmethod
    def _connect_task_query_log_reset():
        from django.db import reset_queries
        from django_q.signals import pre_execute

        # With DEBUG on, every connection keeps the last 9,000 statements it ran, and Django only forgets
        # them when a request starts: a worker, which never serves one, kept the text of statements that
        # name a thousand ids each, tens of MB (bench notes, "Journeys").
        pre_execute.connect(reset_queries, dispatch_uid="aicmo_task_query_log_reset")
