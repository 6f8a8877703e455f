from django.apps import AppConfig


class PolicyhubConfig(AppConfig):
    name = "policyhub"
    verbose_name = "PolicyHub"

    def ready(self):
        from policyhub import changelog

        changelog.connect_link_changes()
