from django.apps import AppConfig


class BriefsConfig(AppConfig):
    """The code brief: the pages, API resource and admin that bring a code's catalogue and payer facts together."""

    name = "briefs"
    verbose_name = "Code briefs"
