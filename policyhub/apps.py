from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def sync_roles_after_migrate(sender, *, using, apps=global_apps, **kwargs):
    """Role groups exist with exactly their permissions after every `migrate`, and after every
    `flush` (which empties auth_group too): role migrations alone would leave a flushed database
    without roles, and a role's new permissions would wait for a migration. (`flush` sends no
    `apps`: the current models, as for Django's own permissions.)"""
    from policyhub.roles import sync_roles

    sync_roles(apps=apps, using=using)


class PolicyhubConfig(AppConfig):
    name = "policyhub"
    verbose_name = "PolicyHub"

    def ready(self):
        from policyhub import changelog

        changelog.connect_link_changes()
        post_migrate.connect(sync_roles_after_migrate, sender=self, dispatch_uid="policyhub.sync_roles")
