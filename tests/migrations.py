"""Testing a data migration for real: rows written at an earlier point of the history, then every
migration after it run by Django's own executor, as `manage.py migrate` would on an upgrade."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@contextmanager
def upgraded_from(app_label: str, migration: str) -> Iterator[Apps]:
    """Migrate back to `app_label.migration`, yield its historical apps for writing the old rows,
    then migrate to the latest state. Needs `django_db(transaction=True)`."""
    target = [(app_label, migration)]
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    yield executor.loader.project_state(target).apps
    # A fresh executor: the first one's graph still holds the state it migrated back to.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
