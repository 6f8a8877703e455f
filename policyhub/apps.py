from django.apps import AppConfig


class PolicyhubConfig(AppConfig):
    name = "policyhub"
    verbose_name = "PolicyHub"
