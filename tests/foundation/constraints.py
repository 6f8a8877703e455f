"""What the constraint tests share: days of 2025 to build periods from, and how a test reads a refusal
(the messages validation gives a curator, the database's IntegrityError)."""

import datetime

import pytest
from django.db import IntegrityError, transaction

JAN_1 = datetime.date(2025, 1, 1)
JUN_30 = datetime.date(2025, 6, 30)
JUL_1 = datetime.date(2025, 7, 1)
DEC_31 = datetime.date(2025, 12, 31)


def messages(excinfo) -> str:
    """All messages of a ValidationError, joined, so a test can look for the words a curator reads."""
    return " ".join(excinfo.value.messages)


def refused_by_database(save):
    """The database itself rejects the write (inside a savepoint, so PostgreSQL can continue)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        save()
