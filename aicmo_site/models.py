"""The site's own table: who this installation is. The module also lets post_migrate reach this app."""

from django.db import models


class Installation(models.Model):
    """One row, made at the first migrate and never regenerated: a staging copy restored from
    production's database keeps production's identifier, a fresh installation gets its own, even when
    both share a SECRET_KEY. Message-IDs carry it, so two installations never write the same one."""

    identifier = models.CharField(max_length=32, unique=True, editable=False,
                                  help_text="Random, written once at the first migrate.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "installation"

    def __str__(self) -> str:
        return self.identifier
